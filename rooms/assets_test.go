package rooms

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/blobs"
	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/pdfsign"
)

// assetContract is the suite every AssetStore passes.
func assetContract(t *testing.T, st AssetStore) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	a1 := &Asset{ID: "f_1", SessionID: "s_1", TaskID: "k_1", Kind: AssetSigned, Name: "signed-offer.pdf", Type: TypePDF,
		Size: 10, SHA256: "ab", At: at.Add(time.Second), BlobKey: "a/secret-1",
		Audit: &SignatureAudit{Signer: "Cara", Method: "drawn", OriginalSHA256: "cd", SignedSHA256: "ab"}}
	a2 := &Asset{ID: "f_2", SessionID: "s_1", TaskID: "k_2", Kind: AssetUpload, Name: "id.jpg", Type: TypeJPEG, At: at, BlobKey: "a/secret-2"}
	other := &Asset{ID: "f_3", SessionID: "s_2", Kind: AssetUpload, At: at, BlobKey: "a/secret-3"}
	for _, a := range []*Asset{a1, a2, other} {
		must(t, st.PutAsset(ctx, a))
	}
	got, err := st.Asset(ctx, "s_1", "f_1")
	must(t, err)
	if got.BlobKey != "a/secret-1" || got.Audit == nil || got.Audit.Signer != "Cara" || !got.At.Equal(a1.At) {
		t.Fatalf("Asset = %+v", got)
	}
	if _, err := st.Asset(ctx, "s_2", "f_1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another session's asset: %v", err)
	}
	list, err := st.Assets(ctx, "s_1")
	must(t, err)
	if len(list) != 2 || list[0].ID != "f_2" || list[1].ID != "f_1" {
		t.Fatalf("Assets not oldest first: %+v", list)
	}
	if list, _ := st.Assets(ctx, "s_9"); len(list) != 0 {
		t.Fatalf("a session without assets lists %d", len(list))
	}
	ids, err := st.AssetSessions(ctx, "", 1)
	must(t, err)
	if len(ids) != 1 || ids[0] != "s_1" {
		t.Fatalf("first page %v", ids)
	}
	ids, err = st.AssetSessions(ctx, "s_1", 10)
	must(t, err)
	if len(ids) != 1 || ids[0] != "s_2" {
		t.Fatalf("second page %v", ids)
	}
	must(t, st.ForgetAssetSession(ctx, "s_1"))
	if ids, _ := st.AssetSessions(ctx, "", 10); len(ids) != 1 || ids[0] != "s_2" {
		t.Fatalf("after forgetting s_1: %v", ids)
	}
	must(t, st.DeleteAsset(ctx, "s_1", "f_2"))
	if _, err := st.Asset(ctx, "s_1", "f_2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted asset: %v", err)
	}
	// A record marked deleted does not list its session again.
	now := at
	a1.DeletedAt = &now
	must(t, st.PutAsset(ctx, a1))
	if ids, _ := st.AssetSessions(ctx, "", 10); len(ids) != 1 {
		t.Fatalf("a deleted record listed its session: %v", ids)
	}
}

func TestAssetStores(t *testing.T) {
	t.Run("memory", func(t *testing.T) { assetContract(t, NewMemStore()) })
	t.Run("redis", func(t *testing.T) {
		rdb, prefix := redistest.Client(t)
		st := NewRedisStore(rdb, prefix, RedisOptions{})
		assetContract(t, st)
		// The records live under the session's hash tag.
		if n, err := rdb.Exists(context.Background(), prefix+"{s_2}:assets").Result(); err != nil || n != 1 {
			t.Fatalf("{s_2}:assets exists = %d, %v", n, err)
		}
	})
}

func TestValidateAnswers(t *testing.T) {
	defs := []FormField{
		{Name: "policy", Label: "Policy number", Type: "text", Required: true, Pattern: `[A-Z]{2}-[0-9]{6}`},
		{Name: "email", Label: "Email", Type: "email"},
		{Name: "amount", Label: "Amount", Type: "number", Min: "1", Max: "5000"},
		{Name: "born", Label: "Date of birth", Type: "date", Max: "2008-12-01"},
		{Name: "plan", Label: "Plan", Type: "select", Options: []string{"Basic", "Plus"}},
		{Name: "terms", Label: "I read the terms", Type: "checkbox", Required: true},
	}
	good := map[string]any{"policy": " AB-123456 ", "email": "cara@example.com", "amount": "250", "born": "1990-05-01", "plan": "Plus", "terms": true}
	out, err := ValidateAnswers(defs, good)
	if err != nil || out["policy"] != "AB-123456" || out["terms"] != true {
		t.Fatalf("good answers: %v %v", out, err)
	}
	for field, bad := range map[string]any{
		"policy": "ab-123456", "email": "not-an-email", "amount": "5001", "born": "2010-01-01", "plan": "Gold", "terms": false,
	} {
		answers := map[string]any{}
		for k, v := range good {
			answers[k] = v
		}
		answers[field] = bad
		var ve *ValidationError
		if _, err := ValidateAnswers(defs, answers); !errors.As(err, &ve) || ve.Fields["answers."+field] == "" {
			t.Errorf("%s=%v: %v", field, bad, err)
		}
	}
	var ve *ValidationError
	if _, err := ValidateAnswers(defs, map[string]any{"terms": true, "extra": "x"}); !errors.As(err, &ve) ||
		ve.Fields["answers.policy"] != "is required" || ve.Fields["answers.extra"] == "" {
		t.Fatalf("missing and unknown answers: %v", err)
	}
}

func TestFormFieldsValidated(t *testing.T) {
	f := fields{}
	validContent("form", TaskContent{Fields: []FormField{
		{Name: "a", Label: "A", Type: "text", Pattern: `(?=x)`},
		{Name: "a", Label: "B", Type: "colour"},
		{Name: "c", Label: "C", Type: "select"},
		{Name: "d", Label: "D", Type: "number", Min: "x"},
	}}, "task", f)
	for _, p := range []string{"task.fields[0].pattern", "task.fields[1].name", "task.fields[1].type", "task.fields[2].options", "task.fields[3].min"} {
		if f[p] == "" {
			t.Errorf("%s not refused: %v", p, f)
		}
	}
	f = fields{}
	validContent("upload", TaskContent{Fields: []FormField{{Name: "a", Label: "A", Type: "text"}}}, "task", f)
	if f["task.fields"] == "" {
		t.Errorf("an upload with fields: %v", f)
	}
}

// exifJPEG is a JPEG carrying an EXIF segment with a GPS tag.
func exifJPEG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		img.Set(x, x%48, color.RGBA{200, 30, 30, 255})
	}
	var plain bytes.Buffer
	must(t, jpeg.Encode(&plain, img, nil))
	b := plain.Bytes()
	payload := append([]byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08"), []byte("GPSLatitude 51.5007 GPSLongitude -0.1246")...)
	seg := append([]byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
	return append(append(append([]byte{}, b[:2]...), seg...), b[2:]...)
}

func TestCleanFile(t *testing.T) {
	photo := exifJPEG(t)
	if !bytes.Contains(photo, []byte("GPSLatitude")) {
		t.Fatal("the test photo has no GPS")
	}
	out, typ, err := cleanFile(photo)
	if err != nil || typ != TypeJPEG {
		t.Fatalf("photo: %s %v", typ, err)
	}
	if bytes.Contains(out, []byte("Exif")) || bytes.Contains(out, []byte("GPS")) {
		t.Fatal("EXIF survived the re-encoding")
	}
	if _, _, err := image.Decode(bytes.NewReader(out)); err != nil {
		t.Fatalf("re-encoded photo unreadable: %v", err)
	}
	exe := append([]byte("MZ\x90\x00"), bytes.Repeat([]byte{0}, 200)...)
	if _, _, err := cleanFile(exe); !errors.Is(err, ErrUnsupportedType) {
		t.Fatalf("an .exe: %v", err)
	}
	if _, _, err := cleanFile(photo[:len(photo)/3]); !errors.Is(err, ErrUnsupportedType) {
		t.Fatalf("a cut JPEG: %v", err)
	}
	if _, _, err := cleanFile([]byte("%PDF-1.7\nnot a pdf")); !errors.Is(err, ErrNotPDF) {
		t.Fatalf("a fake PDF: %v", err)
	}
	pdf := pdfsign.Sample("Payslip", 1)
	if out, typ, err := cleanFile(pdf); err != nil || typ != TypePDF || !bytes.Equal(out, pdf) {
		t.Fatalf("a PDF: %s %v", typ, err)
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"../../etc/passwd":       "passwd.pdf",
		`C:\Users\me\scan.JPG`:   "scan.pdf",
		`bad"name;.pdf`:          "bad_name_.pdf",
		"":                       "file.pdf",
		strings.Repeat("x", 300): strings.Repeat("x", 100) + ".pdf",
	} {
		if got := fileName(in, ".pdf"); got != want {
			t.Errorf("fileName(%q) = %q, want %q", in, got, want)
		}
	}
}

// sweepService is a service over st that keeps files 30 days, with its
// blob store and a fixed now.
func sweepService(t *testing.T, st Store) (*Service, blobs.Store, time.Time) {
	t.Helper()
	ctx := context.Background()
	bucket, err := blobs.Open(ctx, "mem://")
	must(t, err)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	svc := NewService(st, nil, Config{Secret: []byte("0123456789abcdef"), Blobs: bucket, Now: func() time.Time { return now }}, zerolog.Nop())
	set := DefaultSettings()
	set.AssetRetentionDays = 30
	must(t, st.PutSettings(ctx, set))
	return svc, bucket, now
}

// The sweep deletes the blobs of sessions ended past retention, keeps
// the others, and two sweeps at once (two nodes) agree.
func TestSweepAssets(t *testing.T) {
	ctx := context.Background()
	st := NewMemStore()
	svc, bucket, now := sweepService(t, st)
	mk := func(id string, endedDaysAgo int) *Asset {
		s := newTestSession(id, "a_1", "t_1", now.Add(-100*24*time.Hour))
		if endedDaysAgo >= 0 {
			ended := now.Add(-time.Duration(endedDaysAgo) * 24 * time.Hour)
			s.State, s.EndedAt = StateEnded, &ended
		}
		_, err := st.Commit(ctx, s, nil, CommitOptions{})
		must(t, err)
		a := &Asset{SessionID: id, Kind: AssetUpload, Type: TypePNG}
		must(t, svc.keep(ctx, a, []byte("bytes of "+id)))
		return a
	}
	old, recent, open := mk("s_old", 31), mk("s_recent", 29), mk("s_open", -1)
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i := range counts {
		wg.Go(func() {
			n, err := svc.SweepAssets(ctx)
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		})
	}
	wg.Wait()
	if counts[0]+counts[1] < 1 {
		t.Fatalf("nothing swept: %v", counts)
	}
	if _, err := bucket.Get(ctx, old.BlobKey); !errors.Is(err, blobs.ErrNotFound) {
		t.Fatalf("the old session's blob is still there: %v", err)
	}
	if _, _, err := svc.open(ctx, "s_old", old.ID); !errors.Is(err, ErrAssetDeleted) {
		t.Fatalf("opening a swept asset: %v", err)
	}
	for _, a := range []*Asset{recent, open} {
		if _, _, err := svc.read(ctx, a.SessionID, a.ID); err != nil {
			t.Fatalf("%s lost its file: %v", a.SessionID, err)
		}
	}
	if n, _ := svc.SweepAssets(ctx); n != 0 {
		t.Fatalf("a second sweep deleted %d", n)
	}
}

// lateFileStore keeps a file for the session while a sweep is about to
// forget it, as a customer with full access after the end may upload
// meanwhile.
type lateFileStore struct {
	*MemStore
	late func(sessionID string)
}

func (l *lateFileStore) ForgetAssetSession(ctx context.Context, id string) error {
	if l.late != nil {
		late := l.late
		l.late = nil
		late(id)
	}
	return l.MemStore.ForgetAssetSession(ctx, id)
}

// A file kept while the sweep runs on its session is swept too: the
// sweep forgetting the session must not leave that file out of every
// later sweep.
func TestSweepTakesAFileKeptMeanwhile(t *testing.T) {
	ctx := context.Background()
	st := &lateFileStore{MemStore: NewMemStore()}
	svc, bucket, now := sweepService(t, st)
	s := newTestSession("s_old", "a_1", "t_1", now.Add(-100*24*time.Hour))
	ended := now.Add(-40 * 24 * time.Hour)
	s.State, s.EndedAt = StateEnded, &ended
	_, err := st.Commit(ctx, s, nil, CommitOptions{})
	must(t, err)
	must(t, svc.keep(ctx, &Asset{SessionID: "s_old", Kind: AssetUpload, Type: TypePNG}, []byte("first")))
	late := &Asset{SessionID: "s_old", Kind: AssetUpload, Type: TypePNG}
	st.late = func(string) { must(t, svc.keep(ctx, late, []byte("late"))) }
	if _, err := svc.SweepAssets(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SweepAssets(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := bucket.Get(ctx, late.BlobKey); !errors.Is(err, blobs.ErrNotFound) {
		t.Fatalf("a file kept during the sweep escaped retention: %v", err)
	}
}

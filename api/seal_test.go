package api_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/cohub/cohub/pdfsign"
	"github.com/cohub/cohub/pdfsign/sealtest"
	"github.com/cohub/cohub/rooms"
)

// signOnce has the customer sign a fresh sign task of alex's and returns
// the session, the task and the sign request's answer.
func (e *env) signOnce(doc []byte) (*rooms.Session, rooms.Task, *resp) {
	e.t.Helper()
	s, task, link := e.taskSession(map[string]any{"kind": "sign", "title": "Sign the offer"})
	e.do("POST", "/api/sessions/"+s.ID+"/tasks/"+task.ID+"/document", "alex", fileUpload(e.t, "offer.pdf", doc)).want(200)
	e.joinAsCustomer(s.ID)
	r := e.do("POST", "/api/customer/tasks/"+task.ID+"/sign", "Link "+link, map[string]string{"name": "Cara Customer"})
	return s, task, r
}

func (e *env) sealWith(opts pdfsign.SealOptions) {
	e.t.Helper()
	id, err := pdfsign.DerivedIdentity([]byte("test-secret-0123456789"))
	e.must(err)
	s, err := pdfsign.NewSealer(id, opts)
	e.must(err)
	e.t.Cleanup(s.Close)
	e.sealer = s
	e.start()
}

// Every signed copy is sealed: pdfsig finds the whole file signed by the
// server's identity, the audit record names the seal and the TSA's
// time, and the copy carries that timestamp. A copy given again as a
// document to sign is refused: stamping it would break its seal.
func TestSignedCopyIsSealed(t *testing.T) {
	e := newEnv(t, "memory")
	tsa := sealtest.StartTSA(t)
	e.sealWith(pdfsign.SealOptions{TSA: tsa.URL})
	s, _, r := e.signOnce(pdfsign.Sample("Loan offer", 2))
	r.want(200)
	var who rooms.SigningIdentity
	e.do("GET", "/api/signing-identity", "admin", nil).want(200).into(&who)
	if who.Name != "Cohub (self-signed)" || !who.SelfSigned || !who.Timestamps || len(who.Fingerprint) != 64 || who.NotAfter.Year() != 2046 {
		t.Fatalf("the signing identity: %+v", who)
	}
	var list assetList
	e.do("GET", "/api/sessions/"+s.ID+"/assets", "alex", nil).want(200).into(&list)
	signed := list.Assets[len(list.Assets)-1]
	seal := signed.Audit.Seal
	if seal == nil || !strings.Contains(seal.Signer, "Cohub (self-signed)") || !seal.SelfSigned || seal.Timestamp == nil || len(seal.Fingerprint) != 64 {
		t.Fatalf("the audit's seal: %+v", seal)
	}
	copyOf := e.download("/api/sessions/"+s.ID+"/assets/"+signed.ID, "alex").want(200).body
	report := sealtest.Pdfsig(t, copyOf)
	for _, want := range []string{"Signature is Valid", "Total document signed", "Common Name: Cohub (self-signed)"} {
		if !strings.Contains(report, want) {
			t.Fatalf("pdfsig does not say %q:\n%s", want, report)
		}
	}
	seals, err := pdfsign.ReadSeals(copyOf)
	if err != nil || len(seals) != 1 || seals[0].Timestamp == nil || seals[0].Timestamp.Unix() != seal.Timestamp.Unix() {
		t.Fatalf("the copy's seal %+v (%v), the audit's %v", seals, err, seal.Timestamp)
	}
	again, task, _ := e.taskSession(map[string]any{"kind": "sign", "title": "Sign it again"})
	r = e.do("POST", "/api/sessions/"+again.ID+"/tasks/"+task.ID+"/document", "alex", fileUpload(t, "signed.pdf", copyOf))
	if r.wantError(400, "invalid_document"); !strings.Contains(string(r.body), "already digitally signed") {
		t.Fatalf("refusing a signed document: %s", r.body)
	}
}

// With a timestamp required and the TSA down, signing answers 503 and
// keeps nothing: no signed copy, the task still to do. Without the
// requirement the customer signs, and the seal says it has no timestamp.
func TestSealWithoutTSA(t *testing.T) {
	e := newEnv(t, "memory")
	tsa := sealtest.StartTSA(t)
	tsa.Down(true)
	e.sealWith(pdfsign.SealOptions{TSA: tsa.URL, TSARequired: true})
	s, task, r := e.signOnce(pdfsign.Sample("Offer", 1))
	r.wantError(503, "backend_unavailable")
	var list assetList
	e.do("GET", "/api/sessions/"+s.ID+"/assets", "alex", nil).want(200).into(&list)
	if len(list.Assets) != 1 || list.Assets[0].Kind != rooms.AssetDocument {
		t.Fatalf("a refused signature kept %+v", list.Assets)
	}
	var got rooms.Session
	e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).into(&got)
	if got.Tasks[0].ID != task.ID || got.Tasks[0].Status == rooms.TaskCompleted {
		t.Fatalf("a refused signature completed %+v", got.Tasks[0])
	}
	e.sealWith(pdfsign.SealOptions{TSA: tsa.URL})
	s, _, r = e.signOnce(pdfsign.Sample("Offer", 1))
	r.want(200)
	e.do("GET", "/api/sessions/"+s.ID+"/assets", "alex", nil).want(200).into(&list)
	seal := list.Assets[len(list.Assets)-1].Audit.Seal
	if seal == nil || seal.Timestamp != nil || seal.TimestampError == "" {
		t.Fatalf("a seal without its timestamp: %+v", seal)
	}
}

// The record's export is a zip holding the signed copy (its seal intact
// and its hash the audit's), the document, the log with its digests,
// the chain's verdict and a README saying how to check them.
func TestExportHoldsTheRecord(t *testing.T) {
	e := newEnv(t, "memory")
	s, _, r := e.signOnce(pdfsign.Sample("Loan offer", 1))
	r.want(200)
	_, err := e.svc.Sessions.PostMessage(t.Context(), s.ID, rooms.Message{
		From: rooms.Actor{Role: "agent", ID: e.agents["alex"].ID, Name: "Alex"}, Text: "Thank you, all done", AgentsHere: true})
	e.must(err)
	resp := e.download("/api/sessions/"+s.ID+"/export", "alex").want(200)
	if resp.header.Get("Content-Type") != "application/zip" || !strings.Contains(resp.header.Get("Content-Disposition"), s.ID+".zip") {
		t.Fatalf("export headers %v", resp.header)
	}
	z, err := zip.NewReader(bytes.NewReader(resp.body), int64(len(resp.body)))
	e.must(err)
	entries := map[string][]byte{}
	for _, f := range z.File {
		rc, err := f.Open()
		e.must(err)
		b, err := io.ReadAll(rc)
		e.must(err)
		entries[f.Name] = b
	}
	var manifest []struct {
		Path  string
		Asset rooms.Asset
	}
	e.must(json.Unmarshal(entries["manifest.json"], &manifest))
	var signed []byte
	for _, m := range manifest {
		if m.Asset.Kind == rooms.AssetSigned {
			signed = entries[m.Path]
			sum := sha256.Sum256(signed)
			if hex.EncodeToString(sum[:]) != m.Asset.Audit.SignedSHA256 || m.Asset.Audit.Seal == nil {
				t.Fatalf("the signed copy in the zip does not match its record %+v", m.Asset.Audit)
			}
		}
	}
	if len(manifest) != 3 || signed == nil || !strings.Contains(sealtest.Pdfsig(t, signed), "Signature is Valid") {
		t.Fatalf("manifest %+v", manifest)
	}
	var v rooms.Verified
	e.must(json.Unmarshal(entries["verify.json"], &v))
	var live rooms.Verified
	e.do("GET", "/api/sessions/"+s.ID+"/verify", "alex", nil).want(200).into(&live)
	if !v.OK || v != live {
		t.Fatalf("verify.json %+v, the live verdict %+v", v, live)
	}
	var evs []rooms.Event
	e.must(json.Unmarshal(entries["events.json"], &evs))
	if int64(len(evs)) != v.Events || evs[len(evs)-1].Digest != rooms.EventDigest(evs[len(evs)-1]) {
		t.Fatalf("events.json: %d events, verdict %d", len(evs), v.Events)
	}
	cert := entries["completion-certificate.pdf"]
	if os.Getenv("COHUB_KEEP_CERT") != "" {
		_ = os.WriteFile(os.Getenv("COHUB_KEEP_CERT"), cert, 0o600)
	}
	text := strings.Join(strings.Fields(sealtest.Text(t, cert)), " ")
	if !strings.Contains(sealtest.Pdfsig(t, cert), "Signature is Valid") || !strings.Contains(text, "Completion certificate") ||
		!strings.Contains(text, v.Head) || !strings.Contains(text, "C*** C*******") || strings.Contains(text, "Cara Customer") {
		t.Fatalf("the certificate reads:\n%s", text)
	}
	for _, m := range manifest {
		if m.Asset.Kind == rooms.AssetSigned && !strings.Contains(text, m.Asset.Audit.SignedSHA256) {
			t.Fatalf("the certificate lacks the signed copy's hash %s:\n%s", m.Asset.Audit.SignedSHA256, text)
		}
	}
	// On demand the certificate is kept among the session's files.
	var kept rooms.Asset
	e.do("POST", "/api/sessions/"+s.ID+"/certificate", "alex", nil).want(201).into(&kept)
	body := e.download("/api/sessions/"+s.ID+"/assets/"+kept.ID, "alex").want(200).body
	if kept.Kind != rooms.AssetCertificate || !strings.Contains(sealtest.Pdfsig(t, body), "Signature is Valid") {
		t.Fatalf("the kept certificate %+v", kept)
	}
	if !strings.Contains(string(entries["transcript.txt"]), "Alex: Thank you, all done") ||
		!strings.Contains(string(entries["README.txt"]), "pdfsig files/signed/") || !strings.Contains(string(entries["README.txt"]), v.Head) {
		t.Fatalf("transcript %q, README %q", entries["transcript.txt"], entries["README.txt"])
	}
}

// Erase (admins, ended sessions): the customer's name and contact, what
// every message and form said and every file go; the log keeps each
// event's seq and digest, so verify stays ok with the same head but one
// tombstone more; the customer's link opens nothing.
func TestEraseKeepsTheChain(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		s, _, r := e.signOnce(pdfsign.Sample("Offer", 1))
		r.want(200)
		_, err := e.svc.Sessions.PostMessage(t.Context(), s.ID, rooms.Message{
			From: rooms.Actor{Role: "agent", ID: e.agents["alex"].ID, Name: "Alex"}, Text: "Your account number is 1234", AgentsHere: true})
		e.must(err)
		e.do("POST", "/api/sessions/"+s.ID+"/erase", "admin", nil).wantError(409, "invalid_state")
		e.do("POST", "/api/sessions/"+s.ID+"/end", "alex", nil).want(200)
		var before rooms.Verified
		e.do("GET", "/api/sessions/"+s.ID+"/verify", "alex", nil).want(200).into(&before)
		e.do("POST", "/api/sessions/"+s.ID+"/erase", "alex", nil).wantError(403, "forbidden")

		var out rooms.Erasure
		e.do("POST", "/api/sessions/"+s.ID+"/erase", "admin", nil).want(200).into(&out)
		if out.Messages != 1 || out.Files != 3 || out.Session.Customer.Email != "" || out.Session.Customer.Name != "(erased)" {
			t.Fatalf("erasure %+v, customer %+v", out, out.Session.Customer)
		}
		var after rooms.Verified
		e.do("GET", "/api/sessions/"+s.ID+"/verify", "alex", nil).want(200).into(&after)
		if !after.OK || after.Events != before.Events+1 {
			t.Fatalf("verify before %+v, after %+v", before, after)
		}
		var log struct{ Events []rooms.Event }
		e.do("GET", "/api/sessions/"+s.ID+"/events", "alex", nil).want(200).into(&log)
		for _, ev := range log.Events[:len(log.Events)-1] {
			if !ev.Erased || ev.Text != "" || ev.Digest == "" {
				t.Fatalf("event %d after erasure: %+v", ev.Seq, ev)
			}
		}
		if tomb := log.Events[len(log.Events)-1]; tomb.Type != rooms.EventSessionErased || !strings.Contains(tomb.Text, "1 messages") {
			t.Fatalf("the tombstone %+v", tomb)
		}
		var list assetList
		e.do("GET", "/api/sessions/"+s.ID+"/assets", "alex", nil).want(200).into(&list)
		for _, a := range list.Assets {
			if a.DeletedAt == nil {
				t.Fatalf("%s kept after erasure", a.Name)
			}
			e.download("/api/sessions/"+s.ID+"/assets/"+a.ID, "alex").wantError(410, "asset_deleted")
		}
		// Erasing again changes nothing more and stays ok.
		e.do("POST", "/api/sessions/"+s.ID+"/erase", "admin", nil).want(200).into(&out)
		if out.Messages != 0 || out.Files != 0 {
			t.Fatalf("a second erasure found %+v", out)
		}
	})
}

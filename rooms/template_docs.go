package rooms

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/cohub/cohub/blobs"
)

// Public is a copy of the team fit for a reply: its template documents
// without their blob keys.
func (t *Team) Public() *Team {
	if t == nil {
		return nil
	}
	out := *t
	out.Settings.TaskTemplates = PublicTemplates(t.Settings.TaskTemplates)
	return &out
}

// PublicTemplates copies templates without their documents' blob keys.
func PublicTemplates(in []TaskTemplate) []TaskTemplate {
	if in == nil {
		return nil
	}
	out := make([]TaskTemplate, len(in))
	for i, tt := range in {
		out[i] = tt
		if tt.Document != nil {
			d := *tt.Document
			d.Key = ""
			out[i].Document = &d
		}
	}
	return out
}

// keepDocuments gives a team about to be stored the documents its
// stored version holds. A client sends back a template's document as it
// read it (name, size, hash); it is matched by hash among the stored
// ones, so templates may be reordered, and a document the team does not
// hold, or a blob key a client made up, is dropped.
func keepDocuments(old, t *Team) {
	// Two templates may hold the same PDF under two keys: each stored
	// document is handed out once.
	held := map[string][]*TemplateDocument{}
	for _, tt := range old.Settings.TaskTemplates {
		if tt.Document != nil {
			held[tt.Document.SHA256] = append(held[tt.Document.SHA256], tt.Document)
		}
	}
	for i, tt := range t.Settings.TaskTemplates {
		if tt.Document == nil {
			continue
		}
		t.Settings.TaskTemplates[i].Document = nil
		if ds := held[tt.Document.SHA256]; len(ds) > 0 && tt.Kind == "sign" {
			c := *ds[0]
			held[tt.Document.SHA256] = ds[1:]
			t.Settings.TaskTemplates[i].Document = &c
		}
	}
}

// dropDocuments clears documents a client sent with a new team.
func dropDocuments(ts *TeamSettings) {
	for i := range ts.TaskTemplates {
		ts.TaskTemplates[i].Document = nil
	}
}

// signTemplate finds a team's sign template by index.
func signTemplate(t *Team, index int) (*TaskTemplate, error) {
	if index < 0 || index >= len(t.Settings.TaskTemplates) {
		return nil, ErrNotFound
	}
	tt := &t.Settings.TaskTemplates[index]
	if tt.Kind != "sign" {
		return nil, fmt.Errorf("%w: only a sign template takes a document", ErrInvalidState)
	}
	return tt, nil
}

// SetTemplateDocument gives a team's sign template the PDF its tasks
// ask to sign, replacing an earlier one. Sessions that already hold a
// copy keep it.
func (s *FileService) SetTemplateDocument(ctx context.Context, teamID string, index int, name string, data []byte) (*Team, error) {
	if err := s.checkSize(data); err != nil {
		return nil, err
	}
	data, err := s.cleanPDF(ctx, data)
	if err != nil {
		return nil, err
	}
	if _, err := s.assetStore(); err != nil {
		return nil, err
	}
	t, err := s.store.Team(ctx, teamID)
	if err != nil {
		return nil, err
	}
	tt, err := signTemplate(t, index)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	doc := &TemplateDocument{Name: fileName(name, ".pdf"), Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Key: blobs.NewKey()}
	if err := s.cfg.Blobs.Put(ctx, doc.Key, TypePDF, bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("%w: storing the file: %v", ErrUnavailable, err)
	}
	old := tt.Document
	tt.Document = doc
	if err := s.store.PutTeam(ctx, t); err != nil {
		s.deleteBlob(doc.Key)
		return nil, err
	}
	if old != nil {
		s.deleteBlob(old.Key)
	}
	return t.Public(), nil
}

// RemoveTemplateDocument takes a sign template's PDF away: tasks
// assigned from it afterwards wait for the agent to attach one.
func (s *FileService) RemoveTemplateDocument(ctx context.Context, teamID string, index int) (*Team, error) {
	t, err := s.store.Team(ctx, teamID)
	if err != nil {
		return nil, err
	}
	tt, err := signTemplate(t, index)
	if err != nil {
		return nil, err
	}
	old := tt.Document
	if old == nil {
		return t.Public(), nil
	}
	tt.Document = nil
	if err := s.store.PutTeam(ctx, t); err != nil {
		return nil, err
	}
	s.deleteBlob(old.Key)
	return t.Public(), nil
}

// deleteBlob removes a blob nothing refers to any more; one left behind
// is only space.
func (s *FileService) deleteBlob(key string) {
	if key == "" || s.cfg.Blobs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.cfg.Blobs.Delete(ctx, key); err != nil {
		s.log.Warn().Err(err).Msg("blob of a template document not deleted")
	}
}

// templateCopy stores, for a task about to be assigned from a sign
// template carrying a PDF, the session's own copy of it: a document
// asset for the task id it will have. It is nil when the request names
// no such template; what is wrong with the request is left for AddTask
// to report.
func (s *FileService) templateCopy(ctx context.Context, a *Agent, id string, req TaskRequest) (*Asset, error) {
	if req.Template == nil {
		return nil, nil
	}
	sess, err := s.visible(ctx, a, id)
	if err != nil || !CanAct(a, sess) || sess.State == StateEnded {
		return nil, nil
	}
	_, ts, err := s.effective(ctx, sess.SettingsTeamID)
	if err != nil || *req.Template < 0 || *req.Template >= len(ts.TaskTemplates) {
		return nil, nil
	}
	tt := ts.TaskTemplates[*req.Template]
	if tt.Kind != "sign" || tt.Document == nil {
		return nil, nil
	}
	data, err := s.templateBytes(ctx, tt.Document)
	if err != nil {
		return nil, err
	}
	doc := &Asset{SessionID: id, TaskID: newID("k_"), Kind: AssetDocument, Name: tt.Document.Name, Type: TypePDF,
		By: Actor{Role: "agent", ID: a.ID, Name: a.Name}}
	if err := s.keep(ctx, doc, data); err != nil {
		return nil, err
	}
	return doc, nil
}

func (s *FileService) templateBytes(ctx context.Context, d *TemplateDocument) ([]byte, error) {
	if _, err := s.assetStore(); err != nil {
		return nil, err
	}
	rc, err := s.cfg.Blobs.Get(ctx, d.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the template's document: %v", ErrUnavailable, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, d.Size+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the template's document: %v", ErrUnavailable, err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != d.SHA256 {
		return nil, fmt.Errorf("the template's stored document does not match its hash")
	}
	return b, nil
}

// dropUnheld deletes the blobs of documents a team's update left out (a
// template removed, or turned into another kind).
func (s *FileService) dropUnheld(old, t *Team) {
	kept := map[string]bool{}
	for _, tt := range t.Settings.TaskTemplates {
		if tt.Document != nil {
			kept[tt.Document.Key] = true
		}
	}
	for _, tt := range old.Settings.TaskTemplates {
		if tt.Document != nil && !kept[tt.Document.Key] {
			s.deleteBlob(tt.Document.Key)
		}
	}
}

package rooms

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cohub/cohub/blobs"
	"github.com/cohub/cohub/pdfsign"
)

func (s *FileService) assetStore() (AssetStore, error) {
	if s.assets == nil {
		return nil, fmt.Errorf("%w: this store keeps no assets", ErrUnavailable)
	}
	return s.assets, nil
}

func (s *FileService) checkSize(data []byte) error {
	if int64(len(data)) > s.cfg.MaxUpload {
		return fmt.Errorf("%w: files may be at most %d MiB", ErrFileTooLarge, s.cfg.MaxUpload>>20)
	}
	if len(data) == 0 {
		return &ValidationError{Fields: map[string]string{"file": "is empty"}}
	}
	return nil
}

// keep stores bytes as a new asset of a session.
func (s *FileService) keep(ctx context.Context, a *Asset, data []byte) error {
	as, err := s.assetStore()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	a.ID, a.BlobKey = newID("f_"), blobs.NewKey()
	a.Size, a.SHA256, a.At = int64(len(data)), hex.EncodeToString(sum[:]), assetTime(s.now())
	if err := s.cfg.Blobs.Put(ctx, a.BlobKey, a.Type, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("%w: storing the file: %v", ErrUnavailable, err)
	}
	if err := as.PutAsset(ctx, a); err != nil {
		s.discard(a)
		return err
	}
	return nil
}

// discard removes what keep stored when the change it belonged to did
// not happen: nothing is kept for a task that was not completed.
func (s *FileService) discard(assets ...*Asset) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, a := range assets {
		if a == nil {
			continue
		}
		if err := s.cfg.Blobs.Delete(ctx, a.BlobKey); err != nil {
			s.log.Warn().Err(err).Str("asset", a.ID).Msg("blob of an undone change not deleted")
		}
		if s.assets != nil {
			_ = s.assets.DeleteAsset(ctx, a.SessionID, a.ID)
		}
	}
}

// DocumentTaskOpen says whether an agent may attach a document to a
// task now: checked before the file is read, so a request that would be
// refused costs nothing but its headers.
func (s *FileService) DocumentTaskOpen(ctx context.Context, a *Agent, id, taskID string) error {
	sess, err := s.visible(ctx, a, id)
	if err != nil {
		return err
	}
	if !CanAct(a, sess) {
		return ErrForbidden
	}
	_, err = signable(sess, taskID)
	return err
}

// AttachDocument attaches the PDF a pending sign task asks the customer
// to sign (replacing an earlier one).
func (s *FileService) AttachDocument(ctx context.Context, a *Agent, id, taskID, name string, data []byte) (*Task, error) {
	if err := s.DocumentTaskOpen(ctx, a, id, taskID); err != nil {
		return nil, err
	}
	if err := s.checkSize(data); err != nil {
		return nil, err
	}
	data, err := s.cleanPDF(ctx, data)
	if err != nil {
		return nil, err
	}
	doc := &Asset{SessionID: id, TaskID: taskID, Kind: AssetDocument, Name: fileName(name, ".pdf"), Type: TypePDF,
		By: Actor{Role: "agent", ID: a.ID, Name: a.Name}}
	if err := s.keep(ctx, doc, data); err != nil {
		return nil, err
	}
	var task Task
	_, _, err = s.act(ctx, a, id, func(cur *Session) ([]Event, error) {
		i, err := signable(cur, taskID)
		if err != nil {
			return nil, err
		}
		cur.Tasks[i].DocumentID = doc.ID
		task = cur.Tasks[i]
		return []Event{{Type: EventTaskUpdated, At: s.now(), From: agentActor(a), Task: &task}}, nil
	})
	if err != nil {
		s.discard(doc)
		return nil, err
	}
	return &task, nil
}

// signable finds a pending sign task of an open session.
func signable(cur *Session, taskID string) (int, error) {
	if cur.State == StateEnded {
		return -1, fmt.Errorf("%w: the session has ended", ErrInvalidState)
	}
	i := taskIndex(cur.Tasks, taskID)
	switch {
	case i < 0:
		return -1, ErrNotFound
	case cur.Tasks[i].Kind != "sign":
		return -1, fmt.Errorf("%w: only a sign task takes a document", ErrInvalidState)
	case cur.Tasks[i].Status == TaskCompleted:
		return -1, fmt.Errorf("%w: the task is already completed", ErrInvalidState)
	}
	return i, nil
}

// CustomerTaskOpen says whether a customer may do one of their tasks of
// a kind now (link, this browser's pass of the gates, the session's
// state, the task's kind and state): checked before the body is read,
// so a request that would be refused costs nothing but its headers.
func (s *FileService) CustomerTaskOpen(ctx context.Context, link, token, taskID, kind string) error {
	_, t, err := s.customerTask(ctx, link, token, taskID, kind)
	if err == nil && kind == "sign" && t.DocumentID == "" {
		err = errNoDocument
	}
	return err
}

var errNoDocument = fmt.Errorf("%w: your agent has not attached the document yet", ErrInvalidState)

// customerTask admits a customer to one of their pending tasks of a kind.
func (s *FileService) customerTask(ctx context.Context, link, token, taskID, kind string) (*Session, Task, error) {
	sess, _, err := s.gates.CustomerAuth(ctx, link, token)
	if err != nil {
		return nil, Task{}, err
	}
	if err := s.mayWrite(sess, "customer", s.now()); err != nil {
		return nil, Task{}, err
	}
	t, err := pendingTask(sess, taskID, kind)
	return sess, t, err
}

func pendingTask(cur *Session, taskID, kind string) (Task, error) {
	i := taskIndex(cur.Tasks, taskID)
	switch {
	case i < 0:
		return Task{}, ErrNotFound
	case cur.Tasks[i].Kind != kind:
		return Task{}, fmt.Errorf("%w: this is not a %s task", ErrInvalidState, kind)
	case cur.Tasks[i].Status == TaskCompleted:
		return Task{}, fmt.Errorf("%w: the task is already completed", ErrInvalidState)
	}
	return cur.Tasks[i], nil
}

// complete records a task the customer did, with what it kept: one
// task.completed event carrying the asset ids. It marks the session
// updated for its agent. A task completed meanwhile (a second tab)
// fails, and the caller discards what it stored.
func (s *FileService) complete(ctx context.Context, id, taskID, kind string, result any, assets []string) (*Task, error) {
	res, err := json.Marshal(result)
	if err != nil {
		return nil, err
	}
	var done Task
	_, _, err = s.update(ctx, id, func(cur *Session) ([]Event, error) {
		now := s.now()
		if err := s.mayWrite(cur, "customer", now); err != nil {
			return nil, err
		}
		if _, err := pendingTask(cur, taskID, kind); err != nil {
			return nil, err
		}
		i := taskIndex(cur.Tasks, taskID)
		cur.Tasks[i].Status, cur.Tasks[i].CompletedAt, cur.Tasks[i].Result = TaskCompleted, &now, res
		cur.Tasks[i].Assets = assets
		cur.Updated, cur.UpdatedAt = true, now
		done = cur.Tasks[i]
		return []Event{{Type: EventTaskCompleted, At: now, From: &Actor{Role: "customer", Name: cur.Customer.Name},
			Task: &done, Assets: assets}}, nil
	})
	if err != nil {
		return nil, err
	}
	return &done, nil
}

// SignInput is a customer's signature: their name, and the drawn
// signature as a PNG (none when they typed their name).
type SignInput struct {
	Name  string
	Image []byte
}

// Sign signs a sign task's document: the signed copy (the original with
// a signature block on its last page) and its audit record are kept as
// an asset, and the task is completed.
func (s *FileService) Sign(ctx context.Context, link, token, taskID string, in SignInput, from Client) (*Task, error) {
	sess, t, err := s.customerTask(ctx, link, token, taskID, "sign")
	if err != nil {
		return nil, err
	}
	if t.DocumentID == "" {
		return nil, errNoDocument
	}
	name := strings.TrimSpace(in.Name)
	f := problems{}
	if name == "" || utf8.RuneCountInString(name) > maxNameLen {
		f.add("name", "is required, at most 200 characters")
	}
	checkName(name, "name", f)
	if err := f.asError(); err != nil {
		return nil, err
	}
	release, err := s.heavy(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	sig, err := signatureImage(in.Image)
	if err != nil {
		return nil, &ValidationError{Fields: map[string]string{"image": err.Error()}}
	}
	doc, orig, err := s.read(ctx, sess.ID, t.DocumentID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	stamped, err := pdfsign.Sign(orig, pdfsign.Stamp{Name: name, Signature: sig, At: now, SessionID: sess.ID})
	if err != nil {
		return nil, errNotPDF
	}
	signed, seal, err := s.seal(stamped, name, now)
	if err != nil {
		return nil, err
	}
	method := "typed"
	if sig != nil {
		method = "drawn"
	}
	signedSum := sha256.Sum256(signed)
	copyOf := &Asset{SessionID: sess.ID, TaskID: taskID, Kind: AssetSigned, Name: "signed-" + doc.Name, Type: TypePDF,
		By: Actor{Role: "customer", Name: name},
		Audit: &SignatureAudit{Signer: name, Method: method, At: assetTime(now), IP: from.IP, UserAgent: from.UserAgent,
			SessionID: sess.ID, DocumentID: doc.ID, OriginalSHA256: doc.SHA256,
			SignedSHA256: hex.EncodeToString(signedSum[:]), Gates: browserGates(sess, s.gates.readPass(sess, token), now),
			Seal: seal}}
	if err := s.keep(ctx, copyOf, signed); err != nil {
		return nil, err
	}
	done, err := s.complete(ctx, sess.ID, taskID, "sign", map[string]string{"signed_by": name, "method": method}, []string{copyOf.ID})
	if err != nil {
		s.discard(copyOf)
	}
	return done, err
}

// Upload keeps a customer's file for an upload task and completes it.
// The type is read from the content, never the name: JPEG, PNG or PDF.
// Images are decoded and encoded again, which drops their metadata (a
// photo's EXIF, with its GPS position, never reaches storage).
func (s *FileService) Upload(ctx context.Context, link, token, taskID, name string, data []byte) (*Task, error) {
	sess, _, err := s.customerTask(ctx, link, token, taskID, "upload")
	if err != nil {
		return nil, err
	}
	if err := s.checkSize(data); err != nil {
		return nil, err
	}
	clean, typ, err := s.cleanUpload(ctx, data)
	if err != nil {
		return nil, err
	}
	up := &Asset{SessionID: sess.ID, TaskID: taskID, Kind: AssetUpload, Name: fileName(name, extension(typ)), Type: typ,
		By: Actor{Role: "customer", Name: sess.Customer.Name}}
	if err := s.keep(ctx, up, clean); err != nil {
		return nil, err
	}
	done, err := s.complete(ctx, sess.ID, taskID, "upload", map[string]any{"file": up.Name, "type": typ, "size": up.Size}, []string{up.ID})
	if err != nil {
		s.discard(up)
	}
	return done, err
}

// SubmitForm checks a form's answers with its fields' rules, keeps them
// with the task and as a JSON asset, and completes it.
func (s *FileService) SubmitForm(ctx context.Context, link, token, taskID string, answers map[string]any) (*Task, error) {
	sess, t, err := s.customerTask(ctx, link, token, taskID, "form")
	if err != nil {
		return nil, err
	}
	clean, err := ValidateAnswers(t.Fields, answers)
	if err != nil {
		return nil, err
	}
	body, err := json.MarshalIndent(map[string]any{"task": t.Title, "answers": clean, "fields": t.Fields}, "", "  ")
	if err != nil {
		return nil, err
	}
	a := &Asset{SessionID: sess.ID, TaskID: taskID, Kind: AssetForm, Name: fileName(t.Title, ".json"), Type: typeJSON,
		By: Actor{Role: "customer", Name: sess.Customer.Name}}
	if err := s.keep(ctx, a, body); err != nil {
		return nil, err
	}
	done, err := s.complete(ctx, sess.ID, taskID, "form", map[string]any{"answers": clean}, []string{a.ID})
	if err != nil {
		s.discard(a)
	}
	return done, err
}

// AnswerConsent records a consent task's Agree or Disagree, with its
// time (the task's completion).
func (s *FileService) AnswerConsent(ctx context.Context, link, token, taskID string, agree bool) (*Task, error) {
	sess, _, err := s.customerTask(ctx, link, token, taskID, "consent")
	if err != nil {
		return nil, err
	}
	return s.complete(ctx, sess.ID, taskID, "consent", map[string]bool{"agreed": agree}, nil)
}

// read loads an asset's bytes, checking them against the hash recorded
// when they were stored.
func (s *FileService) read(ctx context.Context, sessionID, id string) (*Asset, []byte, error) {
	a, rc, err := s.open(ctx, sessionID, id)
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, a.Size+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: reading the file: %v", ErrUnavailable, err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != a.SHA256 {
		return nil, nil, fmt.Errorf("stored file %s does not match its hash", a.ID)
	}
	return a, b, nil
}

// open finds an asset of a session and opens its bytes.
func (s *FileService) open(ctx context.Context, sessionID, id string) (*Asset, io.ReadCloser, error) {
	as, err := s.assetStore()
	if err != nil {
		return nil, nil, err
	}
	a, err := as.Asset(ctx, sessionID, id)
	if err != nil {
		return nil, nil, err
	}
	if a.DeletedAt != nil {
		return nil, nil, fmt.Errorf("%w: files of this session were deleted after the retention period", ErrAssetDeleted)
	}
	rc, err := s.cfg.Blobs.Get(ctx, a.BlobKey)
	if errors.Is(err, blobs.ErrNotFound) {
		return nil, nil, fmt.Errorf("%w: the file is missing from storage", ErrAssetDeleted)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return a, rc, nil
}

// SessionAssets lists a session's assets for an agent who may open its
// room.
func (s *FileService) SessionAssets(ctx context.Context, a *Agent, id string) ([]*Asset, error) {
	if err := s.MayOpen(ctx, a, id); err != nil {
		return nil, err
	}
	as, err := s.assetStore()
	if err != nil {
		return nil, err
	}
	return as.Assets(ctx, id)
}

// AgentAsset opens an asset for an agent who may open the session's room.
func (s *FileService) AgentAsset(ctx context.Context, a *Agent, id, assetID string) (*Asset, io.ReadCloser, error) {
	if err := s.MayOpen(ctx, a, id); err != nil {
		return nil, nil, err
	}
	return s.open(ctx, id, assetID)
}

// CustomerAsset opens an asset of the customer's own session: while
// they may read it (an ended session's access mode decides), and once
// past its gates.
func (s *FileService) CustomerAsset(ctx context.Context, link, token, id, assetID string) (*Asset, io.ReadCloser, error) {
	sess, _, err := s.gates.CustomerAuth(ctx, link, token)
	if err != nil {
		return nil, nil, err
	}
	if sess.ID != id {
		return nil, nil, ErrNotFound
	}
	return s.open(ctx, id, assetID)
}

// CustomerAssets lists the assets of the customer's own session.
func (s *FileService) CustomerAssets(ctx context.Context, link, token string) ([]*Asset, error) {
	sess, _, err := s.gates.CustomerAuth(ctx, link, token)
	if err != nil {
		return nil, err
	}
	as, err := s.assetStore()
	if err != nil {
		return nil, err
	}
	list, err := as.Assets(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	// The customer sees their files, not the audit's network details.
	for _, a := range list {
		if a.Audit != nil {
			audit := *a.Audit
			audit.IP, audit.UserAgent = "", ""
			a.Audit = &audit
		}
	}
	return list, nil
}

package api

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/cohub/cohub/rooms"
)

// attachDocument attaches the PDF a sign task asks to sign.
func (s *Server) attachDocument(w http.ResponseWriter, r *http.Request) {
	v, a := mux.Vars(r), agentFrom(r)
	if err := s.files.DocumentTaskOpen(r.Context(), a, v["id"], v["taskID"]); err != nil {
		refuse(w, r, err)
		return
	}
	name, data, err := s.readFile(w, r, "a:"+a.ID, rooms.SniffPDF)
	if err != nil {
		refuse(w, r, err)
		return
	}
	t, err := s.files.AttachDocument(r.Context(), a, v["id"], v["taskID"], name, data)
	reply(w, r, http.StatusOK, t, err)
}

func (s *Server) listAssets(w http.ResponseWriter, r *http.Request) {
	list, err := s.files.SessionAssets(r.Context(), agentFrom(r), mux.Vars(r)["id"])
	reply(w, r, http.StatusOK, map[string]any{"assets": list}, err)
}

// asset downloads a file: for a customer with their link, for an agent
// who may open the room otherwise.
func (s *Server) asset(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	if link := linkToken(r); link != "" {
		a, body, err := s.files.CustomerAsset(r.Context(), link, customerToken(r, link), v["id"], v["asset"])
		serveAsset(w, r, a, body, err)
		return
	}
	s.requireAgent(func(w http.ResponseWriter, r *http.Request) {
		a, body, err := s.files.AgentAsset(r.Context(), agentFrom(r), v["id"], v["asset"])
		serveAsset(w, r, a, body, err)
	})(w, r)
}

// serveAsset sends a file as a download, never shown in the page: its
// exact stored type, attachment, no sniffing, and a sandbox should a
// browser render it anyway.
func serveAsset(w http.ResponseWriter, r *http.Request, a *rooms.Asset, body io.ReadCloser, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer body.Close()
	h := w.Header()
	h.Set("Content-Type", a.Type)
	h.Set("Content-Length", strconv.FormatInt(a.Size, 10))
	h.Set("Content-Disposition", `attachment; filename="`+asciiName(a.Name)+`"; filename*=UTF-8''`+url.PathEscape(a.Name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Cohub-SHA256", a.SHA256)
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, body)
}

// asciiName is the fallback filename for old browsers: printable ASCII
// without quotes or backslashes.
func asciiName(name string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
}

func (s *Server) customerAssets(w http.ResponseWriter, r *http.Request, link string) {
	list, err := s.files.CustomerAssets(r.Context(), link, customerToken(r, link))
	reply(w, r, http.StatusOK, map[string]any{"assets": list}, err)
}

func (s *Server) client(r *http.Request) rooms.Client {
	ua := r.UserAgent()
	if len(ua) > 300 {
		ua = ua[:300]
	}
	return rooms.Client{IP: s.clientIP(r), UserAgent: ua}
}

type signRequest struct {
	Name string `json:"name"`
	// Image is the drawn signature: a PNG, base64 or as a data: URL;
	// empty when the name was typed.
	Image string `json:"image,omitempty"`
}

func (s *Server) customerSign(w http.ResponseWriter, r *http.Request, link string) {
	var req signRequest
	if _, err := decode(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	img, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(req.Image, "data:image/png;base64,"))
	if err != nil {
		writeError(w, r, invalid("image", "must be a base64 PNG"))
		return
	}
	t, err := s.files.Sign(r.Context(), link, customerToken(r, link), mux.Vars(r)["taskID"],
		rooms.SignInput{Name: req.Name, Image: img}, s.client(r))
	reply(w, r, http.StatusOK, map[string]any{"task": t}, err)
}

type formRequest struct {
	Answers map[string]any `json:"answers"`
}

func (s *Server) customerForm(w http.ResponseWriter, r *http.Request, link string) {
	var req formRequest
	if _, err := decode(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	t, err := s.files.SubmitForm(r.Context(), link, customerToken(r, link), mux.Vars(r)["taskID"], req.Answers)
	reply(w, r, http.StatusOK, map[string]any{"task": t}, err)
}

func (s *Server) customerUpload(w http.ResponseWriter, r *http.Request, link string) {
	name, data, err := s.readFile(w, r, "c:"+rooms.LinkSessionID(link), rooms.SniffUpload)
	if err != nil {
		refuse(w, r, err)
		return
	}
	t, err := s.files.Upload(r.Context(), link, customerToken(r, link), mux.Vars(r)["taskID"], name, data)
	reply(w, r, http.StatusOK, map[string]any{"task": t}, err)
}

type taskConsentRequest struct {
	Agree *bool `json:"agree"`
}

func (s *Server) customerTaskConsent(w http.ResponseWriter, r *http.Request, link string) {
	var req taskConsentRequest
	if _, err := decode(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if req.Agree == nil {
		writeError(w, r, invalid("agree", "is required"))
		return
	}
	t, err := s.files.AnswerConsent(r.Context(), link, customerToken(r, link), mux.Vars(r)["taskID"], *req.Agree)
	reply(w, r, http.StatusOK, map[string]any{"task": t}, err)
}

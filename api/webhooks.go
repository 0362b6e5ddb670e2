package api

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/webhooks"
)

// hooks serves the admins' webhook endpoints and their delivery logs.
type hooks struct {
	svc *webhooks.Service
}

// endpointList is GET /api/webhooks: the endpoints, and the event types
// an endpoint may ask for (the screen's picker).
type endpointList struct {
	Webhooks   []webhooks.Endpoint `json:"webhooks"`
	EventTypes []string            `json:"event_types"`
}

// ready answers 404 where the server runs without webhooks (a test's).
func (h hooks) ready(w http.ResponseWriter, r *http.Request) bool {
	if h.svc == nil {
		writeError(w, r, rooms.ErrNotFound)
	}
	return h.svc != nil
}

func (h hooks) list(w http.ResponseWriter, r *http.Request) {
	if !h.ready(w, r) {
		return
	}
	es, err := h.svc.List(r.Context())
	reply(w, r, http.StatusOK, endpointList{Webhooks: es, EventTypes: webhooks.EventTypes}, err)
}

func (h hooks) create(w http.ResponseWriter, r *http.Request) {
	var in webhooks.EndpointInput
	if !h.ready(w, r) || !decodeInto(w, r, &in) {
		return
	}
	e, err := h.svc.Create(r.Context(), in)
	reply(w, r, http.StatusCreated, e, err)
}

func (h hooks) update(w http.ResponseWriter, r *http.Request) {
	var in webhooks.EndpointInput
	if !h.ready(w, r) || !decodeInto(w, r, &in) {
		return
	}
	e, err := h.svc.Update(r.Context(), mux.Vars(r)["id"], in)
	reply(w, r, http.StatusOK, e, err)
}

func (h hooks) remove(w http.ResponseWriter, r *http.Request) {
	if !h.ready(w, r) {
		return
	}
	err := h.svc.Delete(r.Context(), mux.Vars(r)["id"])
	reply(w, r, http.StatusOK, map[string]bool{"ok": true}, err)
}

func (h hooks) rotate(w http.ResponseWriter, r *http.Request) {
	if !h.ready(w, r) {
		return
	}
	if err := decodeOptional(w, r); err != nil {
		writeError(w, r, err)
		return
	}
	e, err := h.svc.RotateSecret(r.Context(), mux.Vars(r)["id"])
	reply(w, r, http.StatusOK, e, err)
}

func (h hooks) deliveries(w http.ResponseWriter, r *http.Request) {
	if !h.ready(w, r) {
		return
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	ds, err := h.svc.Deliveries(r.Context(), mux.Vars(r)["id"], limit)
	reply(w, r, http.StatusOK, map[string][]webhooks.Delivery{"deliveries": ds}, err)
}

func (h hooks) retry(w http.ResponseWriter, r *http.Request) {
	if !h.ready(w, r) {
		return
	}
	if err := decodeOptional(w, r); err != nil {
		writeError(w, r, err)
		return
	}
	d, err := h.svc.Retry(r.Context(), mux.Vars(r)["id"], mux.Vars(r)["delivery"])
	reply(w, r, http.StatusOK, d, err)
}

// decodeInto decodes the body into v, or answers why it cannot.
func decodeInto(w http.ResponseWriter, r *http.Request, v any) bool {
	if _, err := decode(w, r, v); err != nil {
		writeError(w, r, err)
		return false
	}
	return true
}

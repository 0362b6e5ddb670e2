package webhooks

import (
	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/rooms"
)

// File is a kept file a task.completed names: its asset id and the
// SHA-256 of its bytes.
type File struct {
	ID     string `json:"id"`
	SHA256 string `json:"sha256"`
}

// sessionData is what every event's data says of its session.
func sessionData(s *rooms.Session) map[string]any {
	return map[string]any{"session_id": s.ID, "agent_id": s.AgentID, "team_id": s.TeamID, "state": s.State}
}

// FromAnnouncement is an announcement's event.
func FromAnnouncement(a rooms.Announcement) (Event, bool) {
	data := sessionData(a.Session)
	typ := a.Type
	switch a.Type {
	case rooms.AnnounceCreated:
		data["mode"] = a.Session.Mode
	case rooms.AnnounceInvited:
	case rooms.AnnounceInvitation:
		if a.Invitation == nil {
			return Event{}, false
		}
		typ = InvitationSent
		if a.Invitation.Status == rooms.InviteFailed {
			typ = InvitationFailed
			data["error"] = a.Invitation.Error
		}
		data["channel"], data["to"] = a.Invitation.Channel, notify.Mask(a.Invitation.To)
	default:
		return Event{}, false
	}
	return Event{Type: typ, Timestamp: a.At, Data: data}, true
}

// FromCommit are the events of what a commit logged; files gives a kept
// file's SHA-256 by its asset id.
func FromCommit(s *rooms.Session, logged []rooms.Event, files func(assetID string) string) []Event {
	var out []Event
	for _, e := range logged {
		typ, data := commitEvent(s, e, files)
		if typ != "" {
			out = append(out, Event{Type: typ, Timestamp: e.At, Data: data})
		}
	}
	return out
}

// commitEvent is one logged event's type and data ("" when receivers
// are not told of it).
func commitEvent(s *rooms.Session, e rooms.Event, files func(string) string) (string, map[string]any) {
	data := sessionData(s)
	switch e.Type {
	case rooms.EventCustomerJoined:
		return CustomerJoined, data
	case rooms.EventAuthChanged:
		switch e.Auth {
		case rooms.AuthVerified:
			return CustomerVerified, data
		case rooms.AuthLocked:
			return CustomerLocked, data
		}
	case rooms.EventConsentChanged:
		data["consent"] = e.Consent
		return ConsentChanged, data
	case rooms.EventTaskAssigned, rooms.EventTaskCompleted:
		if e.Task != nil {
			data["task_id"], data["kind"], data["title"] = e.Task.ID, e.Task.Kind, e.Task.Title
		}
		if e.Type == rooms.EventTaskAssigned {
			return TaskAssigned, data
		}
		kept := []File{}
		for _, id := range e.Assets {
			kept = append(kept, File{ID: id, SHA256: files(id)})
		}
		data["files"] = kept
		return TaskCompleted, data
	case rooms.EventReengaged:
		return SessionReengaged, data
	case rooms.EventSessionEnded:
		data["state"] = rooms.StateEnded
		return SessionEnded, data
	case rooms.EventSessionRenewed:
		return SessionRenewed, data
	}
	return "", nil
}

package api

import (
	"html/template"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/cohub/cohub/i18n"
	"github.com/cohub/cohub/internal/errcode"
	"github.com/cohub/cohub/rooms"
)

// stopPage is the page of a "stop reminders" link, in the customer's
// language: GET asks, POST stops. Mail scanners fetch links to check
// them, so a GET alone never opts the customer out.
var stopPage = template.Must(template.New("stop").Parse(`<!doctype html>
<html lang="{{.Lang}}" dir="{{.Dir}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>{{.Title}} · Cohub</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/css/customer.css">
</head>
<body class="customer">
<main class="c-main" data-testid="stop-page">
<h1>{{.Title}}</h1>
<p role="status" data-testid="stop-text">{{.Text}}</p>
{{if .Ask}}<form method="post">
<button class="btn btn-primary btn-block" type="submit" data-testid="stop-confirm">{{.Button}}</button>
</form>{{end}}
</main>
</body>
</html>
`))

// followups serves the customer's follow-up routes: the stop page and
// the time zone their page reports.
type followups struct {
	follow *rooms.FollowupService
	gates  *rooms.GateService
}

type stopView struct {
	Lang, Dir, Title, Text, Button string
	Ask                            bool
}

// stopReminders serves /stop/{token}: the confirm page (GET) and the
// opt-out (POST). No gate stands before it: the token, signed for this
// session's contact, only stops its reminders.
func (s followups) stopReminders(w http.ResponseWriter, r *http.Request) {
	tok := mux.Vars(r)["token"]
	var page rooms.StopPage
	var err error
	if r.Method == http.MethodPost {
		page, err = s.follow.StopReminders(r.Context(), tok)
	} else {
		page, err = s.follow.StopInfo(r.Context(), tok)
	}
	lang := page.Language
	v := stopView{Lang: lang, Dir: i18n.Dir(lang), Title: i18n.T(lang, "stop.title")}
	status := http.StatusOK
	switch {
	case err != nil:
		status = errcode.Of(err).Status
		v.Text = i18n.T(lang, "stop.invalid")
		if status >= 500 {
			zerolog.Ctx(r.Context()).Warn().Err(err).Msg("stop link not served")
			v.Text = i18n.T(lang, "stop.unavailable")
		}
	case page.Stopped:
		v.Text = i18n.T(lang, "stop.done")
	default:
		v.Text, v.Button, v.Ask = i18n.T(lang, "stop.question"), i18n.T(lang, "stop.button"), true
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = stopPage.Execute(w, v)
}

type timeZoneRequest struct {
	TimeZone string `json:"time_zone"`
}

// customerTimeZone keeps the time zone the customer's page reports, so
// follow-ups go inside the window in the customer's own hours.
func (s followups) customerTimeZone(w http.ResponseWriter, r *http.Request, link string) {
	var req timeZoneRequest
	b, err := decode(w, r, &req)
	if err == nil {
		err = requireAll(b, req)
	}
	if err == nil {
		err = s.gates.SetTimeZone(r.Context(), link, req.TimeZone)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

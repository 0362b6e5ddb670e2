package main

import (
	"net/http"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// serveBare is the baseline the idle scenario compares Cohub with: a bare
// coder/websocket server that accepts, reads, and holds nothing else,
// with the same /metrics.
func serveBare(addr string) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.Handler())
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"cohub.v1"}})
		if err != nil {
			return
		}
		defer ws.CloseNow()
		for {
			if _, _, err := ws.Read(r.Context()); err != nil {
				return
			}
		}
	})
	return http.ListenAndServe(addr, mux)
}

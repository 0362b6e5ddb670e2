package hub

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the hub's Prometheus series.
type Metrics struct {
	Connections  *prometheus.GaugeVec
	Rooms        prometheus.Gauge
	FramesIn     prometheus.Counter
	FramesOut    prometheus.Counter
	SlowClosed   prometheus.Counter
	Overloaded   prometheus.Counter
	GapsFilled   prometheus.Counter
	EpochMoves   prometheus.Counter
	RedisErrors  prometheus.Counter
	PresenceTook prometheus.Histogram
	// BackstopRooms is how many rooms each presence backstop tick read.
	BackstopRooms prometheus.Histogram
	// SendTook is a logged send's time from its frame's read to its
	// commit: the node's and Redis's share of a message's latency.
	SendTook prometheus.Histogram
}

// NewMetrics returns the hub's series, not yet registered.
func NewMetrics() *Metrics {
	m := &Metrics{
		Connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cohub_ws_connections", Help: "Open WebSocket connections by role.",
		}, []string{"role"}),
		Rooms: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cohub_live_rooms", Help: "Rooms with a goroutine on this node.",
		}),
		FramesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cohub_ws_frames_in_total", Help: "Frames received from clients.",
		}),
		FramesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cohub_ws_frames_out_total", Help: "Frames queued to clients.",
		}),
		SlowClosed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cohub_ws_slow_consumer_closes_total", Help: "Connections closed because their send queue was full.",
		}),
		Overloaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cohub_ws_overloaded_total", Help: "Sends and completions refused because the node had too many in flight or was running late.",
		}),
		GapsFilled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cohub_room_gap_events_filled_total", Help: "Room events read from the log because pub/sub did not bring them.",
		}),
		EpochMoves: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cohub_room_epoch_moves_total", Help: "Rooms whose log began a new epoch (lost or gone backwards) while live here.",
		}),
		RedisErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cohub_hub_redis_errors_total", Help: "Redis errors seen by the bus and presence.",
		}),
		PresenceTook: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cohub_presence_refresh_seconds", Help: "Time of one batched presence refresh.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
		BackstopRooms: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cohub_presence_backstop_rooms", Help: "Rooms one presence backstop tick re-read (a room showing a customer online elsewhere has one turn per presence TTL).",
			Buckets: []float64{1, 2, 5, 10, 25, 50, 100, 250, 1000},
		}),
		SendTook: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cohub_send_seconds", Help: "Time from reading a send's frame to its commit (what the node and Redis add to a message; the client's and the network's share are not in it).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	return m
}

// Register adds the series to a registry (the one /metrics serves).
func (m *Metrics) Register(reg prometheus.Registerer) {
	reg.MustRegister(m.Connections, m.Rooms, m.FramesIn, m.FramesOut, m.SlowClosed, m.Overloaded,
		m.GapsFilled, m.EpochMoves, m.RedisErrors, m.PresenceTook, m.BackstopRooms, m.SendTook)
}

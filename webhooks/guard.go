package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Targets a webhook is never sent to, whatever the settings: cloud
// metadata services outside the link-local range.
var metadata = []netip.Addr{
	netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
}

var sharedSpace = netip.MustParsePrefix("100.64.0.0/10") // carrier-grade NAT

// ErrRefusedTarget says an address webhooks may not reach.
var ErrRefusedTarget = errors.New("refused target")

// CheckAddr says whether a webhook may be sent to ip: link-local,
// metadata, multicast and unspecified addresses never; loopback and
// private ranges only when allowPrivate.
func CheckAddr(ip netip.Addr, allowPrivate bool) error {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return fmt.Errorf("%w: not an address", ErrRefusedTarget)
	case ip.IsUnspecified(), ip.IsMulticast(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(),
		ip.IsInterfaceLocalMulticast():
		return fmt.Errorf("%w: %s is a link-local, multicast or unspecified address", ErrRefusedTarget, ip)
	}
	for _, m := range metadata {
		if ip == m {
			return fmt.Errorf("%w: %s is a cloud metadata service", ErrRefusedTarget, ip)
		}
	}
	if !allowPrivate && (ip.IsLoopback() || ip.IsPrivate() || sharedSpace.Contains(ip)) {
		return fmt.Errorf("%w: %s is a loopback or private address (--webhook-allow-private allows it)", ErrRefusedTarget, ip)
	}
	return nil
}

// CheckURL says why raw is not a webhook target, or "" when it may be
// one: https (http only with allowPrivate), a host, and, when the host
// is an address, one CheckAddr allows. A name's addresses are checked
// when it is dialled.
func CheckURL(raw string, allowPrivate bool) string {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "is required"
	case len(raw) > maxURL:
		return "must be at most 2048 characters"
	case err != nil || u.Host == "" || u.Hostname() == "":
		return "must be an absolute URL"
	case u.Scheme != "https" && !(u.Scheme == "http" && allowPrivate):
		return "must be https (http only with --webhook-allow-private)"
	case u.User != nil:
		return "must not carry credentials"
	case u.Fragment != "":
		return "must not have a fragment"
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		if err := CheckAddr(ip, allowPrivate); err != nil {
			return "is not allowed: " + strings.TrimPrefix(err.Error(), ErrRefusedTarget.Error()+": ")
		}
	}
	return ""
}

// Client is the HTTP client deliveries go out on. It checks the address
// it connects to (after the one DNS lookup, so a name cannot resolve
// to an allowed address for a check and another for the connection),
// uses no proxy, follows no redirect and gives up after timeout.
func Client(timeout time.Duration, allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrRefusedTarget, address)
		}
		return CheckAddr(ap.Addr(), allowPrivate)
	}}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{Transport: transport, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// dialError is what a failed attempt's log says about err, without the
// request's URL (which may carry a token in its query).
func attemptError(ctx context.Context, err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, ErrRefusedTarget):
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			return op.Err.Error()
		}
		return err.Error()
	case errors.Is(err, context.DeadlineExceeded), ctx.Err() == nil && isTimeout(err):
		return "no answer in time"
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

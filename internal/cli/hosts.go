package cli

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/ferry-sh/ferry/internal/config"
	"github.com/ferry-sh/ferry/internal/hostcheck"
	"github.com/ferry-sh/ferry/internal/server"
)

// hostNames lists the Host values the share answers to (the DNS-rebinding
// guard): the machine's names, the --bind names and addresses (with a
// wildcard bind, every interface address), and the --host names. The
// checker itself adds localhost, loopback addresses and the address each
// connection came in on.
func hostNames(f *config.Serve) []string {
	if slices.Contains(f.Hosts, "*") {
		return []string{"*"}
	}
	names := append([]string{"localhost"}, hostcheck.MachineNames()...)
	wildcard := len(f.Binds) == 0
	for _, b := range f.Binds {
		if _, unix := server.UnixPath(b); unix {
			continue
		}
		if ip, err := netip.ParseAddr(b); err == nil && ip.IsUnspecified() {
			wildcard = true
			continue
		}
		names = append(names, b)
	}
	if wildcard {
		addrs, _ := hostcheck.InterfaceAddrs()
		names = append(names, addrs...)
	}
	names = append(names, f.ACME...)
	return append(names, f.Hosts...)
}

// writeHosts prints the banner's line on the names the share answers to,
// and how to add one.
func writeHosts(w io.Writer, f *serveFlags) {
	if slices.Contains(f.Hosts, "*") {
		fmt.Fprintln(w, "host names: any (--host '*'): DNS rebinding is not refused")
		return
	}
	names := append([]string{"localhost"}, hostcheck.MachineNames()...)
	for _, b := range f.Binds {
		if _, unix := server.UnixPath(b); unix {
			continue
		}
		if _, err := netip.ParseAddr(b); err != nil {
			names = append(names, b)
		}
	}
	names = append(names, f.ACME...)
	names = append(names, f.Hosts...)
	fmt.Fprintf(w, "host names: %s and the addresses above; for another name add --host NAME\n", strings.Join(names, ", "))
}

package harness

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Network namespaces for the remote tests: a gateway in a namespace of its
// own, reached over a veth pair, sees its client as a peer on another host
// (not loopback), which is what makes it ask for device pairing.
//
// Only addresses of 198.51.100.0/24 (TEST-NET-2, RFC 5737: never routed
// anywhere) are used, a /30 per namespace: the host end of the veth pair
// gets .4n+1, the namespace end .4n+2. Nothing else on the machine is
// touched: no other interface, address, route or namespace.

// NetnsNet is the only network the namespaces use.
const NetnsNet = "198.51.100.0/24"

// Netns is a network namespace with a veth pair to the host namespace and
// lo up inside, owned by this process. Close removes it.
type Netns struct {
	Name   string // the namespace (ip netns NAME)
	HostIf string // the host end of the veth pair
	NsIf   string // its end inside the namespace
	HostIP string // address of HostIf (processes inside reach the host there)
	NsIP   string // address of NsIf (the host reaches the namespace there)

	block  int // the /30 of NetnsNet: .4*block
	mu     sync.Mutex
	closed bool
}

var (
	netnsOnce   sync.Once
	netnsErr    error
	netnsMu     sync.Mutex
	netnsBlocks = map[int]bool{} // /30 blocks handed out by this process
)

// NetnsSupported reports why this process cannot create network namespaces
// (no ip command, not root and no CAP_NET_ADMIN, …), or nil when it can.
// It tries once, by adding and deleting a namespace of its own.
func NetnsSupported() error {
	netnsOnce.Do(func() { netnsErr = probeNetns() })
	return netnsErr
}

func probeNetns() error {
	ip, err := exec.LookPath("ip")
	if err != nil {
		return errors.New("network namespaces are not available: there is no ip command (iproute2) on PATH")
	}
	name := fmt.Sprintf("cg%dprobe", os.Getpid()%10000)
	if out, err := exec.Command(ip, "netns", "add", name).CombinedOutput(); err != nil {
		why := "creating one needs root or CAP_NET_ADMIN"
		if os.Geteuid() == 0 {
			why = "this root has no CAP_NET_ADMIN here (a container without it?)"
		}
		return fmt.Errorf("network namespaces are not permitted: `ip netns add` failed (%s): %s: %s",
			why, err, strings.TrimSpace(string(out)))
	}
	if out, err := exec.Command(ip, "netns", "del", name).CombinedOutput(); err != nil {
		return fmt.Errorf("network namespaces: `ip netns del %s` failed after a successful add: %s: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// NetnsName is the name of the namespace for tag in this process:
// cg<pid mod 10000><tag>, e.g. cg4711o. Its veth ends are <name>h and
// <name>n (interface names are at most 15 bytes).
func NetnsName(tag string) string {
	return fmt.Sprintf("cg%d%s", os.Getpid()%10000, tag)
}

// NetnsAddrs are the host and namespace addresses of /30 block b of
// NetnsNet (0 ≤ b < 64).
func NetnsAddrs(b int) (host, ns string) {
	return fmt.Sprintf("198.51.100.%d", 4*b+1), fmt.Sprintf("198.51.100.%d", 4*b+2)
}

// NewNetns creates the namespace NetnsName(tag) with a veth pair, the
// addresses of the first /30 block from prefer on that no interface of the
// host holds and this process has not handed out, and lo up inside. On any
// failure it removes what it created.
func NewNetns(tag string, prefer int) (*Netns, error) {
	if err := NetnsSupported(); err != nil {
		return nil, err
	}
	if tag == "" || len(NetnsName(tag))+1 > 15 {
		return nil, fmt.Errorf("netns tag %q: the interface names would be empty or longer than 15 bytes", tag)
	}
	b, err := claimBlock(prefer)
	if err != nil {
		return nil, err
	}
	n := &Netns{Name: NetnsName(tag), block: b}
	n.HostIf, n.NsIf = n.Name+"h", n.Name+"n"
	n.HostIP, n.NsIP = NetnsAddrs(b)
	if _, err := os.Stat(filepath.Join("/run/netns", n.Name)); err == nil {
		releaseBlock(b)
		return nil, fmt.Errorf("network namespace %s exists already (left over from an earlier run with the same pid?): remove it with `ip netns del %s`", n.Name, n.Name)
	}
	steps := [][]string{
		{"netns", "add", n.Name},
		{"link", "add", n.HostIf, "type", "veth", "peer", "name", n.NsIf},
		{"link", "set", n.NsIf, "netns", n.Name},
		{"addr", "add", n.HostIP + "/30", "dev", n.HostIf},
		{"link", "set", n.HostIf, "up"},
		{"netns", "exec", n.Name, "ip", "addr", "add", n.NsIP + "/30", "dev", n.NsIf},
		{"netns", "exec", n.Name, "ip", "link", "set", n.NsIf, "up"},
		{"netns", "exec", n.Name, "ip", "link", "set", "lo", "up"},
	}
	for _, args := range steps {
		if err := ipCmd(args...); err != nil {
			_ = n.Close()
			return nil, fmt.Errorf("set up network namespace %s: %w", n.Name, err)
		}
	}
	return n, nil
}

// claimBlock hands out the first /30 block from prefer on (wrapping) whose
// addresses no local interface holds.
func claimBlock(prefer int) (int, error) {
	netnsMu.Lock()
	defer netnsMu.Unlock()
	used := map[string]bool{}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				used[ipn.IP.String()] = true
			}
		}
	}
	for i := range 64 {
		b := (prefer + i) % 64
		h, ns := NetnsAddrs(b)
		if netnsBlocks[b] || used[h] || used[ns] {
			continue
		}
		netnsBlocks[b] = true
		return b, nil
	}
	return 0, fmt.Errorf("every /30 block of %s is in use on this host", NetnsNet)
}

func releaseBlock(b int) {
	netnsMu.Lock()
	delete(netnsBlocks, b)
	netnsMu.Unlock()
}

// ipCmd runs ip with args and returns its output in the error.
func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Command returns cmd adjusted to run inside the namespace: its path and
// arguments go behind `ip netns exec NAME`. Environment, directory and
// files are kept (ip netns exec passes them on and execs the command, so the
// process keeps its pid, group and marker).
func (n *Netns) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Close deletes the veth pair (both ends) and the namespace. Processes
// still inside should be stopped first: a namespace with processes lives
// on, nameless, until they exit. Close is idempotent.
func (n *Netns) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	var errs []error
	if linkExists(n.HostIf) {
		errs = append(errs, ipCmd("link", "del", n.HostIf))
	}
	if _, err := os.Stat(filepath.Join("/run/netns", n.Name)); err == nil {
		errs = append(errs, ipCmd("netns", "del", n.Name))
	}
	releaseBlock(n.block)
	return errors.Join(errs...)
}

func linkExists(name string) bool {
	out, err := exec.Command("ip", "-o", "link", "show", "dev", name).CombinedOutput()
	return err == nil && bytes.Contains(out, []byte(name))
}

// String names the namespace and its addresses.
func (n *Netns) String() string {
	return fmt.Sprintf("netns %s (%s %s <-> %s %s)", n.Name, n.HostIf, n.HostIP, n.NsIf, n.NsIP)
}

package autotls

import "testing"

func TestCheckDomain(t *testing.T) {
	for _, ok := range []string{"files.example.com", "a-b.example", "XN--bcher-kva.example"} {
		if err := CheckDomain(ok); err != nil {
			t.Errorf("CheckDomain(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "127.0.0.1", "[::1]", "*.example.com", "example", "localhost", "example.com.", "-a.example", "a..example", "bücher.example", "a_b.example"} {
		if err := CheckDomain(bad); err == nil {
			t.Errorf("CheckDomain(%q) accepted", bad)
		}
	}
	for u, ok := range map[string]bool{"https://acme.example/dir": true, "http://acme.example/dir": false, "acme.example": false, "https://": false} {
		if err := CheckCA(u); (err == nil) != ok {
			t.Errorf("CheckCA(%q) = %v", u, err)
		}
	}
}

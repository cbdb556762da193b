package cli

import "testing"

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"upload", "upload", 0},
		{"uplaod", "upload", 1}, // a swap counts one
		{"hiden", "hidden", 1},
		{"cgi-timout", "cgi-timeout", 1},
		{"", "qr", 2},
		{"ca", "abc", 3}, // optimal string alignment: no edit of a swapped pair
	} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestLooksShellMangled(t *testing.T) {
	for pass, want := range map[string]bool{
		// What bash makes of $2a$10$… given unquoted (real hashes).
		"a0":         true,
		"a0.unuR/3m": true,
		"a0/0LHcd.icLAuL8hFugCosQp9ImOz69A6DuptJxfnONG":            true,
		"a00CluXK.IrsQj4Qg603RNuq62kuXn4McUOSviW7fEUeOkH2HaoaD2":   true,
		"a0$/bLX99PERTmrcIOSOxRnQenBf97gpfshhihQfr8OSSatr.unuR/3m": true,
		"b2.abc": true,
		"y1":     true,
		"2a10fbLX99PERTmrcIOSOxRnQenBf97gpfshhihQfr8OSSatr.unuR/3m":   true,
		"2a$10$fbLX99PERTmrcIOSOxRnQenBf97gpfshhihQfr8OSSatr.unuR/3m": true,
		// Ordinary passwords.
		"hunter2":        false,
		"a1b2c3":         false,
		"correct-horse":  false,
		"a0 with spaces": false,
		"c0":             false,
	} {
		if got := looksShellMangled(pass); got != want {
			t.Errorf("looksShellMangled(%q) = %v, want %v", pass, got, want)
		}
	}
}

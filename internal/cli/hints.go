package cli

import (
	"errors"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/pflag"
)

// This file turns habits from other tools into a hint instead of a bare
// refusal: "python -m http.server 9000" puts the port where ferry expects
// a folder, "host:port" is how many servers take an address, and flags get
// mistyped.

// unknownFlag words a flag pflag does not know, with the nearest known one
// when there is a likely candidate. It also catches Go's single-dash habit
// ("-port 9000"), which pflag reads as -p with the value "ort".
func unknownFlag(fs *pflag.FlagSet, args []string, err error) error {
	for _, arg := range args {
		if arg == "--" {
			break
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(arg, "-"), "=")
		if len(arg) > 2 && arg[0] == '-' && arg[1] != '-' && len(name) > 1 && fs.Lookup(name) != nil {
			return usagef("unknown flag %s; did you mean --%s?", arg, name)
		}
	}
	var ne *pflag.NotExistError
	if !errors.As(err, &ne) {
		return nil
	}
	name := ne.GetSpecifiedName()
	if ne.GetSpecifiedShortnames() != "" {
		// "-x": a short flag; only a long flag of that name would be a guess.
		if fs.Lookup(name) != nil {
			return usagef("unknown flag -%s; did you mean --%s?", name, name)
		}
		return nil
	}
	if best := nearestFlag(fs, name); best != "" {
		return usagef("unknown flag --%s; did you mean --%s?", name, best)
	}
	return nil
}

// nearestCommand is the command closest to a missing file's name ("ferry
// ech"), or "" when none is close enough.
func nearestCommand(names []string, arg string) string {
	if _, err := os.Lstat(arg); !errors.Is(err, os.ErrNotExist) {
		return ""
	}
	for _, name := range names {
		if d := editDistance(strings.ToLower(arg), name); d > 0 && d <= min(2, max(1, len(name)/3)) {
			return name
		}
	}
	return ""
}

// nearestFlag is the long flag closest to name, or "" when none is close
// enough to be what was meant.
func nearestFlag(fs *pflag.FlagSet, name string) string {
	best, bestDist := "", 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := editDistance(strings.ToLower(name), f.Name)
		// Two edits are plausible for a long name, one for a short one;
		// more than that and the guess is as likely to mislead.
		limit := min(2, max(1, len(f.Name)/3))
		if d <= limit && (best == "" || d < bestDist) {
			best, bestDist = f.Name, d
		}
	})
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent letters (the
// commonest typo, "uplaod") each count one.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// What a shell leaves of a bcrypt hash ($2a$10$ and 53 characters of salt
// and hash) given unquoted or in double quotes: "$2" and "$1" expand to
// nothing, leaving "a0"; the tail's first $-word goes too, so what follows
// is nothing, the tail from its first '.' or '/', the tail less its first
// digit, or "$" and the whole tail when that starts with '.' or '/'. Or the
// dollars alone went missing ("2a10…").
var (
	mangledBcrypt    = regexp.MustCompile(`^[aby][0-9](\$[./][./A-Za-z0-9]{52}|[./A-Za-z0-9]{52}|[./][./A-Za-z0-9]{0,51})?$`)
	dollarlessBcrypt = regexp.MustCompile(`^2[aby]\$?[0-9]{2}\$?[./A-Za-z0-9]{53}$`)
)

// looksShellMangled reports whether an --auth password looks like a
// bcrypt hash that the shell expanded.
func looksShellMangled(pass string) bool {
	return mangledBcrypt.MatchString(pass) || dollarlessBcrypt.MatchString(pass)
}

package release

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Entry is one line of the checksum table: the sha256 of one release asset.
type Entry struct {
	SHA256  string
	Version string
	Asset   string
}

var (
	reSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)
	reAsset  = regexp.MustCompile(`^brickci_(linux|darwin|windows)_(amd64|arm64)(\.exe)?$`)
)

// ParseChecksums reads a checksum table: "<sha256>  <version>/<asset>" per
// line, # comments and blank lines ignored. It reports every malformed line
// with its line number, and duplicate entries.
func ParseChecksums(r io.Reader) ([]Entry, error) {
	var out []Entry
	var problems []string
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			problems = append(problems, fmt.Sprintf("line %d: want \"<sha256>  <version>/<asset>\", got %q", n, line))
			continue
		}
		version, asset, ok := strings.Cut(fields[1], "/")
		switch {
		case !reSHA256.MatchString(fields[0]):
			problems = append(problems, fmt.Sprintf("line %d: %q is not a lower-case sha256", n, fields[0]))
		case !ok || version == "" || !reAsset.MatchString(asset):
			problems = append(problems, fmt.Sprintf("line %d: %q is not <version>/brickci_<os>_<arch>", n, fields[1]))
		case strings.HasSuffix(asset, ".exe") != strings.Contains(asset, "_windows_"):
			problems = append(problems, fmt.Sprintf("line %d: %q: only windows assets end in .exe", n, fields[1]))
		case seen[fields[1]] > 0:
			problems = append(problems, fmt.Sprintf("line %d: %q is listed again (first on line %d)", n, fields[1], seen[fields[1]]))
		default:
			seen[fields[1]] = n
			out = append(out, Entry{SHA256: fields[0], Version: version, Asset: asset})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("failed to read checksum table: %w", err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("invalid checksum table:\n%s", strings.Join(problems, "\n"))
	}
	return out, nil
}

package bundle

import (
	"strconv"
	"strings"

	"github.com/brickci/brickci/internal/diag"
)

// quoteList writes the valid values a message offers: "a", "b", "c".
func quoteList(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// suggest is diag.DidYouMean: "; did you mean \"x\"?" for the closest
// candidate within a small edit distance, or "".
func suggest(bad string, candidates []string) string {
	return diag.DidYouMean(bad, candidates)
}

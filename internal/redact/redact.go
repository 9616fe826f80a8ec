package redact

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Mask replaces a redacted value.
const Mask = "***"

// MinLength is the length below which a value is masked by the runner but
// not removed from text: replacing every "tok" or "abc" would destroy the
// output while protecting nothing a real credential looks like.
const MinLength = 8

// Set is the registry of credential values. The zero value is not usable;
// call New. A Set is safe for concurrent use.
type Set struct {
	mu     sync.RWMutex
	values []string        // every form of every value, longest first
	seen   map[string]bool // the values as added
	onAdd  func(string)
	// encodings give further forms of a value, such as its markdown
	// escaping, in which it may be written.
	encodings []func(string) string
}

// New returns an empty Set.
func New() *Set { return &Set{seen: map[string]bool{}} }

// OnAdd installs the function called once for each new value (the runner's
// ::add-mask:: inside Actions). Values added before are passed to it now.
func (s *Set) OnAdd(f func(string)) {
	s.mu.Lock()
	s.onAdd = f
	values := make([]string, 0, len(s.seen))
	for v := range s.seen {
		values = append(values, v)
	}
	s.mu.Unlock()
	sort.Strings(values)
	for _, v := range values {
		f(v)
	}
}

// AddEncoding makes every value, registered before or after, also be
// removed in the form f gives it: a caller that escapes text for some
// format (markdown, HTML) before it is written registers the escaper, so a
// credential inside escaped text is still found.
func (s *Set) AddEncoding(f func(string) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.encodings = append(s.encodings, f)
	for v := range s.seen {
		if len(v) >= MinLength {
			s.addFormLocked(f(v))
		}
	}
	s.sortLocked()
}

// addFormLocked registers one form of a value and the forms it takes
// inside JSON strings.
func (s *Set) addFormLocked(form string) {
	for _, f := range forms(form) {
		if f != "" && !slices.Contains(s.values, f) {
			s.values = append(s.values, f)
		}
	}
}

func (s *Set) sortLocked() {
	sort.SliceStable(s.values, func(i, j int) bool { return len(s.values[i]) > len(s.values[j]) })
}

// Add registers credential values. Empty values and values already known
// are ignored, as is every value on a nil Set. Surrounding blanks are dropped, as a token read from a file
// or an input is used trimmed.
func (s *Set) Add(values ...string) {
	if s == nil {
		return
	}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		s.mu.Lock()
		if s.seen[v] {
			s.mu.Unlock()
			continue
		}
		s.seen[v] = true
		if len(v) >= MinLength {
			s.addFormLocked(v)
			for _, enc := range s.encodings {
				s.addFormLocked(enc(v))
			}
			s.sortLocked()
		}
		hook := s.onAdd
		s.mu.Unlock()
		// The hook runs outside the lock: it prints, and printing redacts.
		if hook != nil {
			hook(v)
		}
	}
}

// forms returns v and the forms it takes inside JSON strings (with and
// without HTML escaping), so a credential with a quote, a backslash or an
// ampersand is also found in JSON output and request bodies.
func forms(v string) []string {
	out := []string{v}
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if enc.Encode(v) != nil {
			continue
		}
		f := strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)
		f = strings.TrimPrefix(f, `"`)
		if f != v && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// Redact returns text with every registered value replaced by Mask.
func (s *Set) Redact(text string) string {
	if s == nil {
		return text
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, v := range s.values {
		if strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, Mask)
		}
	}
	return text
}

// RedactBytes is Redact for a byte slice; it returns b itself when nothing
// was registered in it.
func (s *Set) RedactBytes(b []byte) []byte {
	if s == nil {
		return b
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, v := range s.values {
		if bytes.Contains(b, []byte(v)) {
			b = bytes.ReplaceAll(b, []byte(v), []byte(Mask))
		}
	}
	return b
}

// Transport returns an http.RoundTripper that registers every credential
// the client sends or receives before the request leaves: the value of the
// Authorization header (a PAT, or a token issued by OAuth m2m, OIDC token
// exchange or Azure), and the tokens in the JSON answer of a token endpoint.
// Wrapping the SDK client's transport this way covers every credential
// strategy the SDK has, without knowing any of them. base nil means
// http.DefaultTransport. A nil Set returns base itself.
func (s *Set) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if s == nil {
		return base
	}
	return &transport{set: s, base: base}
}

type transport struct {
	set  *Set
	base http.RoundTripper
}

// maxTokenAnswer bounds the token-endpoint answers read to find tokens.
const maxTokenAnswer = 1 << 20

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, cred, ok := strings.Cut(auth, " ")
		if ok && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "Basic")) {
			t.set.Add(cred)
		} else {
			t.set.Add(auth)
		}
	}
	if isTokenEndpoint(r) {
		t.registerForm(r)
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil || !isTokenEndpoint(r) || resp.Body == nil {
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxTokenAnswer))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil
	}
	var answer map[string]any
	if json.Unmarshal(body, &answer) == nil {
		for _, k := range []string{"access_token", "id_token", "refresh_token", "value"} {
			if v, ok := answer[k].(string); ok {
				t.set.Add(v)
			}
		}
	}
	return resp, nil
}

// registerForm registers the credentials a token request carries in its
// form body (a client secret, a subject token or an assertion such as the
// GitHub OIDC token), read through GetBody so the request is left intact.
func (t *transport) registerForm(r *http.Request) {
	if r.GetBody == nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return
	}
	body, err := r.GetBody()
	if err != nil {
		return
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, maxTokenAnswer))
	if err != nil {
		return
	}
	form, err := url.ParseQuery(string(data))
	if err != nil {
		return
	}
	for _, k := range []string{"client_secret", "subject_token", "assertion", "client_assertion", "refresh_token", "password"} {
		t.set.Add(form.Get(k))
	}
}

// isTokenEndpoint reports whether a request asks for a token: the OAuth
// token endpoints (…/oidc/v1/token, …/oauth2/v2.0/token) and the Actions
// OIDC endpoint (…/idtoken?audience=…).
func isTokenEndpoint(r *http.Request) bool {
	p := strings.ToLower(r.URL.Path)
	return strings.HasSuffix(p, "/token") || strings.HasSuffix(p, "idtoken")
}

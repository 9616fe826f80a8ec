package redact

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	s := New()
	var masked []string
	s.Add("short", " dapi-0123456789 ", "dapi-0123456789-longer")
	s.OnAdd(func(v string) { masked = append(masked, v) })
	s.Add("", "ghs_abcdefgh")
	got := s.Redact("a dapi-0123456789-longer b dapi-0123456789 c ghs_abcdefgh short")
	if want := "a *** b *** c *** short"; got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
	if want := "dapi-0123456789,dapi-0123456789-longer,short,ghs_abcdefgh"; strings.Join(masked, ",") != want {
		t.Errorf("masked %q, want %q", masked, want)
	}
}

// TestTransportRegistersWhatItSends checks that a bearer token the client
// sends, and a token an endpoint issues, are known before any answer that
// could echo them is read.
func TestTransportRegistersWhatItSends(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oidc/v1/token" {
			io.WriteString(w, `{"access_token": "issued-token-123456", "token_type": "Bearer"}`)
			return
		}
		io.WriteString(w, "you sent "+r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	s := New()
	c := &http.Client{Transport: s.Transport(nil)}
	resp, err := c.Post(srv.URL+"/oidc/v1/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=token-exchange&subject_token=eyJ.jwt-sentinel.sig"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "issued-token-123456") {
		t.Fatalf("token answer lost its body: %q", body)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api", nil)
	req.Header.Set("Authorization", "Bearer dapi-sent-token-99")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := s.Redact(string(body) + " issued-token-123456 eyJ.jwt-sentinel.sig"); got != "you sent Bearer *** *** ***" {
		t.Errorf("Redact = %q", got)
	}
}

func TestRedactFindsJSONForms(t *testing.T) {
	t.Parallel()
	s := New()
	s.Add(`sec<ret>&"quoted"\x`)
	for _, text := range []string{
		`{"m": "sec\u003cret\u003e\u0026\"quoted\"\\x"}`,
		`{"m": "sec<ret>&\"quoted\"\\x"}`,
		`raw sec<ret>&"quoted"\x`,
	} {
		if got := s.Redact(text); strings.Contains(got, "ret") {
			t.Errorf("Redact(%s) = %s", text, got)
		}
	}
}

func TestRedactFindsEncodedForms(t *testing.T) {
	t.Parallel()
	s := New()
	s.Add("ghs_before_1234")
	s.AddEncoding(func(v string) string { return strings.ReplaceAll(v, "_", `\_`) })
	s.Add("ghs_after_5678")
	if got := s.Redact(`a ghs\_before\_1234 b ghs\_after\_5678 c ghs_after_5678`); got != "a *** b *** c ***" {
		t.Errorf("Redact = %q", got)
	}
}

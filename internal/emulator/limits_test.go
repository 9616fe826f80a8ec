package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestOversizedBodyIs413 sends a body one byte over the limit while the
// server is reading it: the answer must be a 413 with a Databricks error
// body, not a reset connection.
func TestOversizedBodyIs413(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(New())
	defer srv.Close()
	body := io.MultiReader(strings.NewReader(`{"path": "/x", "content": "`), io.LimitReader(zeros{}, maxBodyBytes))
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/2.0/workspace/import", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("request failed instead of answering 413: %v", err)
	}
	defer resp.Body.Close()
	var e struct {
		ErrorCode string `json:"error_code"`
		Message   string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("status %d, body is not JSON: %v", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge || e.ErrorCode == "" || !strings.Contains(e.Message, "limit") {
		t.Errorf("got %d %+v, want 413 with an error naming the limit", resp.StatusCode, e)
	}
}

// zeros reads as an endless run of 'A'.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'A'
	}
	return len(p), nil
}

package emulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequest sends arbitrary requests to every API area: the emulator
// must never panic, never answer 5xx (there is no fault injection here),
// and answer every error with a Databricks error body (an OAuth one on the
// token endpoints).
func FuzzRequest(f *testing.F) {
	seeds := []struct{ method, path, body string }{
		{"POST", "/api/2.0/workspace/mkdirs", `{"path": "/Users/a/b"}`},
		{"POST", "/api/2.0/workspace/import", `{"path": "/x.py", "content": "IyBEYXRhYnJpY2tzIG5vdGVib29rIHNvdXJjZQ==", "format": "AUTO", "overwrite": true}`},
		{"GET", "/api/2.0/workspace/get-status?path=/x", ``},
		{"POST", "/api/2.0/workspace/delete", `{"path": "/", "recursive": true}`},
		{"POST", "/api/2.2/jobs/create", `{"name": "j", "tasks": [{"task_key": "a"}, {"task_key": "b", "depends_on": [{"task_key": "a"}]}]}`},
		{"POST", "/api/2.2/jobs/create", `{"tasks": [{"task_key": "a", "depends_on": [{"task_key": "a"}]}]}`},
		{"POST", "/api/2.2/jobs/reset", `{"job_id": 1, "new_settings": null}`},
		{"POST", "/api/2.2/jobs/run-now", `{"job_id": -1}`},
		{"GET", "/api/2.2/jobs/runs/get?run_id=abc", ``},
		{"GET", "/api/2.2/jobs/list?limit=-5&page_token=%%%", ``},
		{"PUT", "/api/2.0/permissions/jobs/1", `{"access_control_list": [{"user_name": "u", "permission_level": "NOPE"}]}`},
		{"POST", "/api/2.0/serving-endpoints", `{"name": "", "config": {"served_entities": [{}]}}`},
		{"PUT", "/api/2.0/serving-endpoints/x/config", `[]`},
		{"POST", "/oidc/v1/token", `grant_type=client_credentials&client_id=a&client_secret=b`},
		{"GET", "/api/2.0/preview/scim/v2/Me", ``},
		{"POST", "/api/2.0/workspace-files/import-file/Users/a/f.txt?overwrite=true", `hello`},
		{"POST", "/api/2.1/unity-catalog/schemas", `{"catalog_name": "main", "name": "s"}`},
		{"DELETE", "/api/2.1/unity-catalog/schemas/main.default?force=true", ``},
		{"POST", "/api/2.1/unity-catalog/volumes", `{"catalog_name": "main", "schema_name": "default", "name": "v", "volume_type": "EXTERNAL"}`},
		{"PATCH", "/api/2.1/unity-catalog/permissions/registered-model/main.default.m", `{"changes": [{"principal": "", "add": ["EXECUTE"]}]}`},
		{"POST", "/api/2.1/unity-catalog/tables/main.default.t/monitor", `{"assets_dir": "/x", "output_schema_name": "main.default", "snapshot": {}}`},
		{"POST", "/api/2.0/mlflow/experiments/create", `{"name": "/Shared/e"}`},
		{"POST", "/api/2.0/mlflow/experiments/search", `{"filter": "name LIKE '%'", "view_type": "NOPE"}`},
		{"POST", "/api/2.0/mlflow/registered-models/rename", `{"name": "a", "new_name": ""}`},
		{"POST", "/api/2.0/pipelines", `{"name": "p", "libraries": [{"notebook": {"path": "/a/b.py"}}], "continuous": true}`},
		{"POST", "/api/2.0/pipelines/x/updates", `{"full_refresh": true, "refresh_selection": ["a"]}`},
		{"GET", "/api/2.0/pipelines/x/events?filter=level%3D%27ERROR%27%20AND%20x%3D1", ``},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body)
	}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "/__emulator/") {
			return
		}
		req, err := http.NewRequest(method, "http://emulator"+path, strings.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("Authorization", "Bearer fuzz")
		if strings.HasPrefix(path, "/oidc/") {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
		s := New()
		// A job to act on, so ids in fuzzed paths and bodies can hit one.
		seed := httptest.NewRequest("POST", "/api/2.2/jobs/create", strings.NewReader(`{"name": "j", "tasks": [{"task_key": "a"}]}`))
		seed.Header.Set("Authorization", "Bearer fuzz")
		s.ServeHTTP(httptest.NewRecorder(), seed)

		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: status %d %s", method, path, body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 && rec.Code != http.StatusMethodNotAllowed {
			var e struct {
				ErrorCode string `json:"error_code"`
				Message   string `json:"message"`
				// OAuth endpoints answer in RFC 6749's shape instead.
				OAuthError string `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || (e.ErrorCode == "" && e.OAuthError == "") {
				t.Fatalf("%s %s %q: status %d without a Databricks error body: %s", method, path, body, rec.Code, rec.Body.String())
			}
		}
	})
}

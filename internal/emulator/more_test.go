package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/catalog"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/databricks/databricks-sdk-go/service/serving"
	"github.com/databricks/databricks-sdk-go/service/workspace"
	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/emulator"
)

func TestOAuthClients(t *testing.T) {
	t.Parallel()
	srv := emulator.NewWithOptions(emulator.Options{ClientSecrets: map[string]string{"11111111-2222-3333-4444-555555555555": "s3cret"}})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	const app = "11111111-2222-3333-4444-555555555555"
	tests := []struct {
		name string
		cfg  *databricks.Config
	}{
		{"oauth-m2m", &databricks.Config{Host: hs.URL, AuthType: "oauth-m2m", ClientID: app, ClientSecret: "s3cret", ConfigFile: "/dev/null/none"}},
		{"github-oidc", &databricks.Config{Host: hs.URL, AuthType: "github-oidc", ClientID: app, ConfigFile: "/dev/null/none",
			ActionsIDTokenRequestURL: hs.URL + "/__emulator/github-oidc?api-version=2.0", ActionsIDTokenRequestToken: "gh-request-token"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, err := databricks.NewWorkspaceClient(tc.cfg)
			if err != nil {
				t.Fatalf("client: %v", err)
			}
			me, err := w.CurrentUser.Me(context.Background(), iam.MeRequest{})
			if err != nil {
				t.Fatalf("me: %v", err)
			}
			if me.UserName != app || len(me.Emails) != 0 {
				t.Errorf("me = %+v, want service principal %s", me, app)
			}
		})
	}
	w, err := databricks.NewWorkspaceClient(&databricks.Config{Host: hs.URL, AuthType: "oauth-m2m", ClientID: app, ClientSecret: "wrong", ConfigFile: "/dev/null/none"})
	if err == nil {
		_, err = w.CurrentUser.Me(context.Background(), iam.MeRequest{})
	}
	if err == nil {
		t.Error("wrong client secret authenticated")
	}
}

func TestServingEndpoint(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	cfg := &serving.EndpointCoreConfigInput{ServedEntities: []serving.ServedEntityInput{{EntityName: "main.rag.chatbot", EntityVersion: "1", WorkloadSize: "Small", ScaleToZeroEnabled: true}}}
	wait, err := w.ServingEndpoints.Create(ctx, serving.CreateServingEndpoint{Name: "chatbot", Config: cfg})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if wait.Response.State.ConfigUpdate != serving.EndpointStateConfigUpdateInProgress {
		t.Errorf("state after create = %+v", wait.Response.State)
	}
	cfg.Name = "chatbot"
	if _, err := w.ServingEndpoints.UpdateConfig(ctx, *cfg); !errors.Is(err, databricks.ErrResourceConflict) {
		t.Errorf("update while in progress: got %v, want RESOURCE_CONFLICT", err)
	}
	ep, err := wait.GetWithTimeout(time.Minute)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	if ep.State.Ready != serving.EndpointStateReadyReady || ep.Config == nil || ep.Config.ServedEntities[0].Name != "main-rag-chatbot-1" {
		t.Errorf("endpoint after wait = %+v", ep)
	}
	cfg.ServedEntities[0].EntityVersion = "2"
	updated, err := w.ServingEndpoints.UpdateConfigAndWait(ctx, *cfg)
	if err != nil {
		t.Fatalf("update and wait: %v", err)
	}
	if updated.Config.ConfigVersion != 2 || updated.Config.ServedEntities[0].EntityVersion != "2" {
		t.Errorf("config after update = %+v", updated.Config)
	}
	perms, err := w.ServingEndpoints.GetPermissions(ctx, serving.GetServingEndpointPermissionsRequest{ServingEndpointId: ep.Id})
	if err != nil || len(perms.AccessControlList) == 0 || perms.AccessControlList[0].UserName != "user@example.com" {
		t.Errorf("permissions = %+v, %v", perms, err)
	}
	if _, err := w.ServingEndpoints.Create(ctx, serving.CreateServingEndpoint{Name: "chatbot", Config: cfg}); !errors.Is(err, databricks.ErrResourceAlreadyExists) {
		t.Errorf("duplicate create: got %v", err)
	}
	if err := w.ServingEndpoints.DeleteByName(ctx, "chatbot"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := w.ServingEndpoints.GetByName(ctx, "chatbot"); !errors.Is(err, databricks.ErrResourceDoesNotExist) {
		t.Errorf("get deleted: got %v", err)
	}
	if n := len(srv.Endpoints("t")); n != 0 {
		t.Errorf("%d endpoints left", n)
	}
}

func TestRetriesUnderFaults(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	if err := srv.Configure(emulator.Config{FaultRate: 0.3, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		p := fmt.Sprintf("/Shared/f%d", i)
		if err := w.Workspace.Upload(ctx, p, bytes.NewBufferString("x"), workspace.UploadFormat(workspace.ImportFormatRaw)); err != nil {
			t.Fatalf("upload %s: %v", p, err)
		}
	}
	if n := len(srv.Files("t")); n != 4 {
		t.Errorf("%d files, want 4", n)
	}
	faults := 0
	for _, r := range srv.Requests() {
		if r.Status == http.StatusTooManyRequests || r.Status == http.StatusServiceUnavailable {
			faults++
		}
	}
	if faults == 0 {
		t.Error("no faults were injected at rate 0.3")
	}
}

func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	do := func(method, path, token, body string) (int, string) {
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		return resp.StatusCode, buf.String()
	}
	if code, _ := do("POST", "/__emulator/config", "", `{"task_duration_ms": 10, "outcomes": {"a": "FAILED"}}`); code != 200 {
		t.Fatalf("config: %d", code)
	}
	if code, body := do("POST", "/__emulator/config", "", `{"outcomes": {"a": "MAYBE"}}`); code != 400 || !strings.Contains(body, "INVALID_PARAMETER_VALUE") {
		t.Errorf("bad config: %d %s", code, body)
	}
	if code, body := do("POST", "/__emulator/config", "", `{not json`); code != 400 {
		t.Errorf("malformed config: %d %s", code, body)
	}
	if got := srv.CurrentConfig(); got.TaskDuration != 10*time.Millisecond || got.Outcomes["a"] != emulator.OutcomeFailed {
		t.Errorf("config = %+v", got)
	}
	do("GET", "/api/2.0/workspace/get-status?path=/Shared", "t", "")
	do("GET", "/api/2.0/workspace/get-status?path=/nope", "t", "")
	do("POST", "/api/2.2/jobs/create", "t", `{"tasks": [`)
	do("GET", "/api/2.0/nothing/here", "t", "")
	_, body := do("GET", "/__emulator/requests", "", "")
	var got []emulator.Request
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("requests: %v", err)
	}
	want := []emulator.Request{
		{Method: "GET", Path: "/api/2.0/workspace/get-status", Status: 200},
		{Method: "GET", Path: "/api/2.0/workspace/get-status", Status: 404},
		{Method: "POST", Path: "/api/2.2/jobs/create", Status: 400},
		{Method: "GET", Path: "/api/2.0/nothing/here", Status: 404},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	do("POST", "/__emulator/reset", "", "")
	if _, body := do("GET", "/__emulator/requests", "", ""); strings.TrimSpace(body) != "[]" {
		t.Errorf("requests after reset = %s", body)
	}
	if len(srv.Workspaces()) != 0 {
		t.Errorf("workspaces after reset: %v", srv.Workspaces())
	}
}

func BenchmarkEmulatorMix(b *testing.B) {
	srv := emulator.New()
	hs := httptest.NewServer(srv)
	b.Cleanup(hs.Close)
	w := patClient(b, hs.URL, "bench")
	ctx := context.Background()
	j, err := w.Jobs.Create(ctx, jobs.CreateJob{Name: "j", Tasks: chainTasks("a", "b")})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			var err error
			switch i % 3 {
			case 0:
				_, err = w.Workspace.GetStatusByPath(ctx, "/Shared")
			case 1:
				err = w.Workspace.Upload(ctx, "/Shared/bench.txt", bytes.NewBufferString("x"), workspace.UploadFormat(workspace.ImportFormatRaw), workspace.UploadOverwrite())
			default:
				_, err = w.Jobs.GetByJobId(ctx, j.JobId)
			}
			if err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// TestServingEndpointInferenceTable checks that an endpoint with
// auto_capture_config makes its payload table, which a quality monitor can
// then watch, and that the schema for it must exist.
func TestServingEndpointInferenceTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, _ := newClient(t, emulator.New(), "tok")
	cfg := func(schema string) *serving.EndpointCoreConfigInput {
		return &serving.EndpointCoreConfigInput{
			ServedEntities:    []serving.ServedEntityInput{{EntityName: "main.default.m", EntityVersion: "1", WorkloadSize: "Small", ScaleToZeroEnabled: true}},
			AutoCaptureConfig: &serving.AutoCaptureConfigInput{CatalogName: "main", SchemaName: schema, TableNamePrefix: "chat"},
		}
	}
	if _, err := w.ServingEndpoints.Create(ctx, serving.CreateServingEndpoint{Name: "nowhere", Config: cfg("nope")}); !errors.Is(err, databricks.ErrNotFound) {
		t.Errorf("endpoint logging to a missing schema: %v, want not found", err)
	}
	if _, err := w.ServingEndpoints.Create(ctx, serving.CreateServingEndpoint{Name: "chatbot", Config: cfg("default")}); err != nil {
		t.Fatal(err)
	}
	got, err := w.Tables.Exists(ctx, catalog.ExistsRequest{FullName: "main.default.chat_payload"})
	if err != nil || !got.TableExists {
		t.Fatalf("payload table: %+v, %v; want it to exist", got, err)
	}
	if _, err := w.QualityMonitors.Create(ctx, catalog.CreateMonitor{TableName: "main.default.chat_payload", AssetsDir: "/Shared/m", OutputSchemaName: "main.default",
		TimeSeries: &catalog.MonitorTimeSeries{TimestampCol: "request_time", Granularities: []string{"1 day"}}}); err != nil {
		t.Errorf("monitor on the payload table: %v", err)
	}
}

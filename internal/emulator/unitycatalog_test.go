package emulator_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/catalog"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/brickci/brickci/internal/emulator"
)

// wantAPIError fails unless err is an API error with status and code.
func wantAPIError(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var apiErr *apierr.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != status || apiErr.ErrorCode != code {
		t.Errorf("%s: got %v, want %d %s", what, err, status, code)
	}
}

func TestMainCatalogExistsAndSurvivesReset(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, hs := newClient(t, srv, "t")
	ctx := context.Background()
	for range 2 {
		cat, err := w.Catalogs.GetByName(ctx, "main")
		if err != nil || cat.Name != "main" || cat.Owner != emulator.DefaultUserName {
			t.Fatalf("get main = %+v, %v", cat, err)
		}
		if _, err := w.Schemas.GetByFullName(ctx, "main.default"); err != nil {
			t.Fatalf("get main.default: %v", err)
		}
		resp, err := http.Post(hs.URL+"/__emulator/reset", "application/json", nil)
		if err != nil {
			t.Fatalf("reset: %v", err)
		}
		resp.Body.Close()
	}
	cats, err := w.Catalogs.ListAll(ctx, catalog.ListCatalogsRequest{})
	if err != nil || len(cats) != 1 || cats[0].Name != "main" {
		t.Errorf("list catalogs = %+v, %v", cats, err)
	}
	_, err = w.Catalogs.GetByName(ctx, "nope")
	wantAPIError(t, "get missing catalog", err, 404, "CATALOG_DOES_NOT_EXIST")
}

func TestSchemaLifecycle(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	created, err := w.Schemas.Create(ctx, catalog.CreateSchema{CatalogName: "main", Name: "Staging", Comment: "c1", Properties: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.FullName != "main.staging" || created.Name != "staging" || created.SchemaId == "" || created.CreatedAt == 0 || created.Owner != emulator.DefaultUserName {
		t.Errorf("created = %+v", created)
	}
	_, err = w.Schemas.Create(ctx, catalog.CreateSchema{CatalogName: "main", Name: "staging"})
	if !errors.Is(err, apierr.ErrResourceAlreadyExists) {
		t.Errorf("second create: got %v, want RESOURCE_ALREADY_EXISTS", err)
	}
	wantAPIError(t, "second create", err, 409, "RESOURCE_ALREADY_EXISTS")
	_, err = w.Schemas.Create(ctx, catalog.CreateSchema{CatalogName: "nocat", Name: "s"})
	wantAPIError(t, "create in missing catalog", err, 404, "CATALOG_DOES_NOT_EXIST")
	if !errors.Is(err, apierr.ErrNotFound) {
		t.Errorf("create in missing catalog is not ErrNotFound: %v", err)
	}
	updated, err := w.Schemas.Update(ctx, catalog.UpdateSchema{FullName: "main.staging", Comment: "c2"})
	if err != nil || updated.Comment != "c2" || updated.Properties["k"] != "v" {
		t.Errorf("update = %+v, %v", updated, err)
	}
	got, err := w.Schemas.GetByFullName(ctx, "main.staging")
	if err != nil || got.Comment != "c2" {
		t.Errorf("get = %+v, %v", got, err)
	}
	list, err := w.Schemas.ListAll(ctx, catalog.ListSchemasRequest{CatalogName: "main"})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var names []string
	for _, s := range list {
		names = append(names, s.FullName)
	}
	if diff := cmp.Diff([]string{"main.default", "main.staging"}, names); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"main.default", "main.staging"}, sortedMapKeys(srv.Schemas("t"))); diff != "" {
		t.Errorf("accessor (-want +got):\n%s", diff)
	}
	if err := w.Schemas.DeleteByFullName(ctx, "main.staging"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = w.Schemas.GetByFullName(ctx, "main.staging")
	wantAPIError(t, "get deleted", err, 404, "SCHEMA_DOES_NOT_EXIST")
	err = w.Schemas.DeleteByFullName(ctx, "main.staging")
	wantAPIError(t, "delete deleted", err, 404, "SCHEMA_DOES_NOT_EXIST")
}

func TestVolumesModelsAndNonEmptySchema(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	if _, err := w.Schemas.Create(ctx, catalog.CreateSchema{CatalogName: "main", Name: "ml"}); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	v, err := w.Volumes.Create(ctx, catalog.CreateVolumeRequestContent{CatalogName: "main", SchemaName: "ml", Name: "raw", VolumeType: catalog.VolumeTypeManaged})
	if err != nil {
		t.Fatalf("create volume: %v", err)
	}
	if v.FullName != "main.ml.raw" || v.VolumeId == "" || v.StorageLocation == "" || v.VolumeType != catalog.VolumeTypeManaged {
		t.Errorf("volume = %+v", v)
	}
	_, err = w.Volumes.Create(ctx, catalog.CreateVolumeRequestContent{CatalogName: "main", SchemaName: "ml", Name: "ext", VolumeType: catalog.VolumeTypeExternal})
	wantAPIError(t, "external volume without location", err, 400, "INVALID_PARAMETER_VALUE")
	ext, err := w.Volumes.Create(ctx, catalog.CreateVolumeRequestContent{CatalogName: "main", SchemaName: "ml", Name: "ext", VolumeType: catalog.VolumeTypeExternal, StorageLocation: "s3://bucket/ext"})
	if err != nil || ext.StorageLocation != "s3://bucket/ext" {
		t.Errorf("external volume = %+v, %v", ext, err)
	}
	_, err = w.Volumes.Create(ctx, catalog.CreateVolumeRequestContent{CatalogName: "main", SchemaName: "nope", Name: "raw", VolumeType: catalog.VolumeTypeManaged})
	wantAPIError(t, "volume in missing schema", err, 404, "SCHEMA_DOES_NOT_EXIST")
	if _, err := w.Volumes.Update(ctx, catalog.UpdateVolumeRequestContent{Name: "main.ml.raw", Comment: "landing"}); err != nil {
		t.Errorf("update volume: %v", err)
	}
	if got, err := w.Volumes.ReadByName(ctx, "main.ml.raw"); err != nil || got.Comment != "landing" {
		t.Errorf("read volume = %+v, %v", got, err)
	}
	vols, err := w.Volumes.ListAll(ctx, catalog.ListVolumesRequest{CatalogName: "main", SchemaName: "ml"})
	if err != nil || len(vols) != 2 {
		t.Errorf("list volumes = %+v, %v", vols, err)
	}

	m, err := w.RegisteredModels.Create(ctx, catalog.CreateRegisteredModelRequest{CatalogName: "main", SchemaName: "ml", Name: "churn", Comment: "c"})
	if err != nil || m.FullName != "main.ml.churn" {
		t.Fatalf("create model = %+v, %v", m, err)
	}
	_, err = w.RegisteredModels.Create(ctx, catalog.CreateRegisteredModelRequest{CatalogName: "main", SchemaName: "ml", Name: "churn"})
	if !errors.Is(err, apierr.ErrResourceAlreadyExists) {
		t.Errorf("second model create: %v", err)
	}
	_, err = w.RegisteredModels.Create(ctx, catalog.CreateRegisteredModelRequest{CatalogName: "main", SchemaName: "nope", Name: "churn"})
	wantAPIError(t, "model in missing schema", err, 404, "SCHEMA_DOES_NOT_EXIST")
	if _, err := w.RegisteredModels.Update(ctx, catalog.UpdateRegisteredModelRequest{FullName: "main.ml.churn", Comment: "c2"}); err != nil {
		t.Errorf("update model: %v", err)
	}
	if got, err := w.RegisteredModels.GetByFullName(ctx, "main.ml.churn"); err != nil || got.Comment != "c2" {
		t.Errorf("get model = %+v, %v", got, err)
	}
	models, err := w.RegisteredModels.ListAll(ctx, catalog.ListRegisteredModelsRequest{CatalogName: "main", SchemaName: "ml"})
	if err != nil || len(models) != 1 {
		t.Errorf("list models = %+v, %v", models, err)
	}

	err = w.Schemas.DeleteByFullName(ctx, "main.ml")
	wantAPIError(t, "delete non-empty schema", err, 400, "SCHEMA_NOT_EMPTY")
	if len(srv.Volumes("t")) != 2 || len(srv.RegisteredModels("t")) != 1 {
		t.Errorf("refused delete changed state: %v %v", srv.Volumes("t"), srv.RegisteredModels("t"))
	}
	if err := w.RegisteredModels.DeleteByFullName(ctx, "main.ml.churn"); err != nil {
		t.Errorf("delete model: %v", err)
	}
	_, err = w.RegisteredModels.GetByFullName(ctx, "main.ml.churn")
	if !errors.Is(err, apierr.ErrResourceDoesNotExist) {
		t.Errorf("get deleted model: %v", err)
	}
	if err := w.Schemas.Delete(ctx, catalog.DeleteSchemaRequest{FullName: "main.ml", Force: true}); err != nil {
		t.Fatalf("force delete: %v", err)
	}
	if len(srv.Volumes("t")) != 0 {
		t.Errorf("volumes left after force delete: %v", srv.Volumes("t"))
	}
}

func TestGrants(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	if _, err := w.Schemas.Create(ctx, catalog.CreateSchema{CatalogName: "main", Name: "ml"}); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	if _, err := w.RegisteredModels.Create(ctx, catalog.CreateRegisteredModelRequest{CatalogName: "main", SchemaName: "ml", Name: "m"}); err != nil {
		t.Fatalf("create model: %v", err)
	}
	resp, err := w.Grants.Update(ctx, catalog.UpdatePermissions{SecurableType: "schema", FullName: "main.ml", Changes: []catalog.PermissionsChange{
		{Principal: "data-eng", Add: []catalog.Privilege{catalog.PrivilegeUseSchema, catalog.PrivilegeCreateTable}},
		{Principal: "analysts", Add: []catalog.Privilege{catalog.PrivilegeUseSchema}},
	}})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	want := []catalog.PrivilegeAssignment{
		{Principal: "analysts", Privileges: []catalog.Privilege{catalog.PrivilegeUseSchema}},
		{Principal: "data-eng", Privileges: []catalog.Privilege{catalog.PrivilegeCreateTable, catalog.PrivilegeUseSchema}},
	}
	if diff := cmp.Diff(want, resp.PrivilegeAssignments, ignoreForceSend); diff != "" {
		t.Errorf("update response (-want +got):\n%s", diff)
	}
	// What the Databricks CLI sends: add the wanted, remove everything else.
	_, err = w.Grants.Update(ctx, catalog.UpdatePermissions{SecurableType: "schema", FullName: "main.ml", Changes: []catalog.PermissionsChange{
		{Principal: "data-eng", Add: []catalog.Privilege{catalog.PrivilegeUseSchema}, Remove: []catalog.Privilege{catalog.PrivilegeAllPrivileges}},
		{Principal: "analysts", Remove: []catalog.Privilege{catalog.PrivilegeUseSchema}},
	}})
	if err != nil {
		t.Fatalf("second update: %v", err)
	}
	got, err := w.Grants.GetBySecurableTypeAndFullName(ctx, "schema", "main.ml")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	want = []catalog.PrivilegeAssignment{{Principal: "data-eng", Privileges: []catalog.Privilege{catalog.PrivilegeUseSchema}}}
	if diff := cmp.Diff(want, got.PrivilegeAssignments, ignoreForceSend); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}
	for _, typ := range []string{"registered-model", "function", "REGISTERED_MODEL"} {
		if _, err := w.Grants.Update(ctx, catalog.UpdatePermissions{SecurableType: typ, FullName: "main.ml.m", Changes: []catalog.PermissionsChange{
			{Principal: "svc", Add: []catalog.Privilege{catalog.PrivilegeExecute}},
		}}); err != nil {
			t.Errorf("grant on model as %q: %v", typ, err)
		}
	}
	wantGrants := map[string][]catalog.PrivilegeAssignment{
		"SCHEMA/main.ml":     {{Principal: "data-eng", Privileges: []catalog.Privilege{catalog.PrivilegeUseSchema}}},
		"FUNCTION/main.ml.m": {{Principal: "svc", Privileges: []catalog.Privilege{catalog.PrivilegeExecute}}},
	}
	if diff := cmp.Diff(wantGrants, srv.Grants("t")); diff != "" {
		t.Errorf("accessor (-want +got):\n%s", diff)
	}
	_, err = w.Grants.Update(ctx, catalog.UpdatePermissions{SecurableType: "schema", FullName: "main.ml", Changes: []catalog.PermissionsChange{{Principal: "x", Add: []catalog.Privilege{"FLY"}}}})
	wantAPIError(t, "unknown privilege", err, 400, "INVALID_PARAMETER_VALUE")
	_, err = w.Grants.GetBySecurableTypeAndFullName(ctx, "schema", "main.nope")
	wantAPIError(t, "grants of missing schema", err, 404, "SCHEMA_DOES_NOT_EXIST")
	_, err = w.Grants.GetBySecurableTypeAndFullName(ctx, "spaceship", "main.ml")
	wantAPIError(t, "unknown securable type", err, 400, "INVALID_PARAMETER_VALUE")
}

func TestSeed(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, hs := newClient(t, srv, "t")
	ctx := context.Background()
	if err := srv.Seed("t", emulator.Seed{Tables: []string{"prod.sales.orders"}}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	tbl, err := w.Tables.GetByFullName(ctx, "prod.sales.orders")
	if err != nil || tbl.TableType != catalog.TableTypeManaged || tbl.SchemaName != "sales" {
		t.Errorf("get seeded table = %+v, %v", tbl, err)
	}
	if list, err := w.Tables.ListAll(ctx, catalog.ListTablesRequest{CatalogName: "prod", SchemaName: "sales"}); err != nil || len(list) != 1 || list[0].FullName != "prod.sales.orders" {
		t.Errorf("list tables = %+v, %v", list, err)
	}
	if ex, err := w.Tables.ExistsByFullName(ctx, "prod.sales.orders"); err != nil || !ex.TableExists {
		t.Errorf("exists = %+v, %v", ex, err)
	}
	if ex, err := w.Tables.ExistsByFullName(ctx, "prod.sales.nope"); err != nil || ex.TableExists {
		t.Errorf("exists of missing = %+v, %v", ex, err)
	}
	_, err = w.Tables.GetByFullName(ctx, "prod.sales.nope")
	wantAPIError(t, "get missing table", err, 404, "TABLE_DOES_NOT_EXIST")

	// The control endpoint seeds every workspace when none is named.
	body := `{"catalogs": ["shared"], "schemas": ["shared.gold"], "tables": ["shared.gold.t"]}`
	resp, err := http.Post(hs.URL+"/__emulator/seed", "application/json", bytes.NewBufferString(body))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("seed endpoint: %v %v", resp, err)
	}
	resp.Body.Close()
	other := patClient(t, hs.URL, "other")
	for _, c := range []struct {
		name string
		w    string
	}{{"existing workspace", "t"}, {"new workspace", "other"}} {
		client := w
		if c.w == "other" {
			client = other
		}
		if _, err := client.Schemas.GetByFullName(ctx, "shared.gold"); err != nil {
			t.Errorf("%s: seeded schema: %v", c.name, err)
		}
	}
	resp, err = http.Post(hs.URL+"/__emulator/seed", "application/json", bytes.NewBufferString(`{"schemas": ["no-dot"]}`))
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad seed: %v %v", resp, err)
	}
	resp.Body.Close()
}

// ignoreForceSend ignores the SDK's record of which zero values were sent.
var ignoreForceSend = cmpopts.IgnoreFields(catalog.PrivilegeAssignment{}, "ForceSendFields")

func sortedMapKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestFaultsReachNewAPIs checks that injected faults answer the Unity
// Catalog, MLflow, model registry, monitor and pipeline routes as any other.
func TestFaultsReachNewAPIs(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	if err := srv.Configure(emulator.Config{FaultRate: 1}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	for _, rt := range []struct{ method, path string }{
		{"GET", "/api/2.1/unity-catalog/schemas/main.default"},
		{"GET", "/api/2.1/unity-catalog/permissions/schema/main.default"},
		{"GET", "/api/2.1/unity-catalog/tables/main.default.t/monitor"},
		{"POST", "/api/2.0/mlflow/experiments/create"},
		{"GET", "/api/2.0/mlflow/databricks/registered-models/get"},
		{"GET", "/api/2.0/pipelines"},
	} {
		req, _ := http.NewRequest(rt.method, hs.URL+rt.path, nil)
		req.Header.Set("Authorization", "Bearer t")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", rt.method, rt.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s %s: status %d, want an injected 429 or 503", rt.method, rt.path, resp.StatusCode)
		}
	}
	if len(srv.Schemas("t")) != 1 {
		t.Errorf("faults changed state: %v", srv.Schemas("t"))
	}
}

func TestSchemaRenameMovesContents(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	if _, err := w.Schemas.Create(ctx, catalog.CreateSchema{CatalogName: "main", Name: "old"}); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	if _, err := w.Volumes.Create(ctx, catalog.CreateVolumeRequestContent{CatalogName: "main", SchemaName: "old", Name: "v", VolumeType: catalog.VolumeTypeManaged}); err != nil {
		t.Fatalf("create volume: %v", err)
	}
	if _, err := w.Grants.Update(ctx, catalog.UpdatePermissions{SecurableType: "volume", FullName: "main.old.v", Changes: []catalog.PermissionsChange{
		{Principal: "readers", Add: []catalog.Privilege{catalog.PrivilegeReadVolume}},
	}}); err != nil {
		t.Fatalf("grant: %v", err)
	}
	renamed, err := w.Schemas.Update(ctx, catalog.UpdateSchema{FullName: "main.old", NewName: "new"})
	if err != nil || renamed.FullName != "main.new" {
		t.Fatalf("rename = %+v, %v", renamed, err)
	}
	v, err := w.Volumes.ReadByName(ctx, "main.new.v")
	if err != nil || v.SchemaName != "new" {
		t.Errorf("volume after rename = %+v, %v", v, err)
	}
	if _, err := w.Volumes.ReadByName(ctx, "main.old.v"); !errors.Is(err, apierr.ErrNotFound) {
		t.Errorf("volume under the old name: %v", err)
	}
	if diff := cmp.Diff([]string{"VOLUME/main.new.v"}, sortedMapKeys(srv.Grants("t"))); diff != "" {
		t.Errorf("grants (-want +got):\n%s", diff)
	}
	_, err = w.Schemas.Update(ctx, catalog.UpdateSchema{FullName: "main.new", NewName: "default"})
	wantAPIError(t, "rename onto an existing schema", err, 409, "RESOURCE_ALREADY_EXISTS")
}

package deploy

import (
	"context"
	"fmt"
	"reflect"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/serving"
)

// endpointsType deploys model serving endpoints. An endpoint's id in
// state is its name, as the CLI records it; a create or config update
// waits until the endpoint is no longer updating, bounded by
// Options.EndpointTimeout. A new name, description, route optimisation or
// inference table location replaces the endpoint; its served entities,
// traffic and capture settings are updated in place. It is created after
// the bundle's registered models it serves.
type endpointsType struct{}

func (endpointsType) group() string                { return "model_serving_endpoints" }
func (endpointsType) kind() string                 { return KindServingEndpoint }
func (endpointsType) name(s map[string]any) string { return nameOf(s) }

func (endpointsType) of(b *bundle.Bundle) []*bundle.Resource {
	out := make([]*bundle.Resource, 0, len(b.ServingEndpoints))
	for k, v := range b.ServingEndpoints {
		out = append(out, &bundle.Resource{Type: "model_serving_endpoints", Key: k, Name: nameOf(v.Config), Location: v.Location, Config: v.Config, Permissions: v.Permissions})
	}
	return out
}
func (endpointsType) label(_, id string) string {
	return "serving endpoint " + id
}

// catalogUses are the Unity Catalog models the endpoint serves and the
// schema its inference tables go to: a registered model of the bundle is
// created before the endpoint that serves it.
func (endpointsType) catalogUses(cfg map[string]any) []string {
	var out []string
	for _, list := range []struct{ field, name string }{{"served_entities", "entity_name"}, {"served_models", "model_name"}} {
		entities, _ := fieldAt(cfg, "config."+list.field).([]any)
		for _, e := range entities {
			m, _ := e.(map[string]any)
			if name, _ := m[list.name].(string); schemaOf(name) != "" {
				out = append(out, name)
			}
		}
	}
	if capture, ok := fieldAt(cfg, "config.auto_capture_config").(map[string]any); ok {
		if s := fullName(capture, "catalog_name", "schema_name"); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (endpointsType) desired(_ *bundle.Bundle, r *bundle.Resource, ids map[string]string) (any, map[string]any, error) {
	req, norm, err := settingsOf[serving.CreateServingEndpoint](r, ids, "serving endpoint")
	if err == nil && req.Name == "" {
		err = errNoName("serving endpoint", r.Type, r.Key)
	}
	return req, norm, err
}

func (endpointsType) create(ctx context.Context, d *deployer, req any) (string, any, error) {
	r := req.(*serving.CreateServingEndpoint)
	if _, err := d.w.ServingEndpoints.Create(ctx, *r); err != nil {
		return "", nil, err
	}
	return r.Name, nil, nil
}

func (endpointsType) wait(ctx context.Context, d *deployer, name string) (any, error) {
	detail, err := d.w.ServingEndpoints.WaitGetServingEndpointNotUpdating(ctx, name, d.opts.EndpointTimeout, nil)
	if err != nil {
		return nil, d.waitError(ctx, name, err)
	}
	return detail, nil
}

// update sends a config update when the served entities, traffic or
// capture settings changed; other fields (tags) are recorded only.
func (endpointsType) update(ctx context.Context, d *deployer, _ string, old, norm map[string]any, req any) (string, any, error) {
	if !configChanged(old, norm) {
		return "", nil, nil
	}
	detail, err := d.updateEndpointConfig(ctx, req.(*serving.CreateServingEndpoint))
	return "", detail, err
}

func (endpointsType) remove(ctx context.Context, d *deployer, name string) error {
	return d.w.ServingEndpoints.Delete(ctx, serving.DeleteServingEndpointRequest{Name: name})
}

// endpointRecreate are the fields the serving endpoints API cannot update
// (the Databricks CLI's direct engine replaces the endpoint for them).
var endpointRecreate = []string{"description", "route_optimized", "config.auto_capture_config.catalog_name", "config.auto_capture_config.schema_name", "config.auto_capture_config.table_name_prefix"}

func (endpointsType) replaces(id string, old, norm map[string]any) bool {
	return id != nameOf(norm) || fieldsDiffer(old, norm, endpointRecreate)
}

// read checks that the endpoint exists; its settings are not compared.
func (endpointsType) read(ctx context.Context, w *databricks.WorkspaceClient, name string) (map[string]any, error) {
	_, err := w.ServingEndpoints.Get(ctx, serving.GetServingEndpointRequest{Name: name})
	return nil, err
}

// find: an endpoint is found by its name, which is its identity.
func (endpointsType) find(ctx context.Context, d *deployer, name string) (string, error) {
	if _, err := d.w.ServingEndpoints.GetByName(ctx, name); err != nil {
		if isNotFound(err) {
			return "", nil
		}
		return "", err
	}
	return name, nil
}

// catalogNames is the endpoint's inference table, which Databricks makes
// when the endpoint is created with auto_capture_config enabled:
// <catalog>.<schema>.<table_name_prefix>_payload.
func (endpointsType) catalogNames(cfg map[string]any) []string {
	c, _ := fieldAt(cfg, "config.auto_capture_config").(map[string]any)
	if c == nil || c["enabled"] == false {
		return nil
	}
	prefix, _ := c["table_name_prefix"].(string)
	if prefix == "" {
		prefix, _ = cfg["name"].(string)
	}
	if t := fullName(c, "catalog_name", "schema_name"); t != "" && prefix != "" {
		return []string{t + "." + prefix + "_payload"}
	}
	return nil
}

func (endpointsType) objectType() string              { return "serving-endpoints" }
func (endpointsType) ownerLevel() iam.PermissionLevel { return iam.PermissionLevelCanManage }

// objectID is made of the endpoint's internal id, which only the API's
// answers hold.
func (endpointsType) objectID(_, recorded string, remote any) string {
	if detail, ok := remote.(*serving.ServingEndpointDetailed); ok && detail != nil {
		return "/serving-endpoints/" + detail.Id
	}
	return recorded
}

func (endpointsType) lookupObjectID(ctx context.Context, d *deployer, name string) (string, error) {
	detail, err := d.w.ServingEndpoints.GetByName(ctx, name)
	if err != nil {
		return "", fmt.Errorf("failed to read serving endpoint %q: %w", name, err)
	}
	return "/serving-endpoints/" + detail.Id, nil
}

// fieldsDiffer reports whether any of the dotted fields differs between a
// recorded state and the desired one. A state recorded without settings
// (a create not yet finished) differs in none.
func fieldsDiffer(old, norm map[string]any, fields []string) bool {
	if len(old) == 0 {
		return false
	}
	for _, f := range fields {
		if !reflect.DeepEqual(fieldAt(old, f), fieldAt(norm, f)) {
			return true
		}
	}
	return false
}

// waitError explains why waiting for a serving endpoint failed. The SDK's
// waiters report a cancelled context as a time-out, which would blame the
// endpoint for a deploy that was interrupted.
func (d *deployer) waitError(ctx context.Context, name string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("stopped waiting for serving endpoint %q: %w", name, ctx.Err())
	}
	return fmt.Errorf("serving endpoint %q did not become ready within %s: %w", name, d.opts.EndpointTimeout, err)
}

// updateEndpointConfig brings a serving endpoint's config to req's and
// returns the endpoint once it is no longer updating. An update still in
// progress, left by an interrupted deploy, is waited for first (the
// workspace refuses a second one), and a config that is already in place is
// not sent again.
func (d *deployer) updateEndpointConfig(ctx context.Context, req *serving.CreateServingEndpoint) (*serving.ServingEndpointDetailed, error) {
	cur, err := d.w.ServingEndpoints.GetByName(ctx, req.Name)
	if err != nil {
		return nil, fmt.Errorf("failed to read serving endpoint %q: %w", req.Name, err)
	}
	if cur.State != nil && cur.State.ConfigUpdate == serving.EndpointStateConfigUpdateInProgress {
		d.progress("serving endpoint %s is still being updated; waiting for it", req.Name)
		if cur, err = d.w.ServingEndpoints.WaitGetServingEndpointNotUpdating(ctx, req.Name, d.opts.EndpointTimeout, nil); err != nil {
			return nil, d.waitError(ctx, req.Name, err)
		}
	}
	in := serving.EndpointCoreConfigInput{Name: req.Name}
	if req.Config != nil {
		in = *req.Config
		in.Name = req.Name
	}
	applied, err := configApplied(in, cur)
	if err != nil {
		return nil, fmt.Errorf("failed to compare the config of serving endpoint %q: %w", req.Name, err)
	}
	if applied {
		return cur, nil
	}
	wait, err := d.w.ServingEndpoints.UpdateConfig(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("failed to update serving endpoint %q: %w", req.Name, err)
	}
	detail, err := wait.GetWithTimeout(d.opts.EndpointTimeout)
	if err != nil {
		return nil, d.waitError(ctx, req.Name, err)
	}
	return detail, nil
}

// configApplied reports whether every setting of want is what the
// endpoint's active config holds; settings the workspace fills in (served
// entity names, states, an implicit traffic config) are not compared. An
// endpoint whose last update failed never counts as applied.
func configApplied(want serving.EndpointCoreConfigInput, cur *serving.ServingEndpointDetailed) (bool, error) {
	if cur.Config == nil || (cur.State != nil && cur.State.ConfigUpdate == serving.EndpointStateConfigUpdateUpdateFailed) {
		return false, nil
	}
	w, err := normalise(want)
	if err != nil {
		return false, err
	}
	delete(w, "name")
	have, err := normalise(cur.Config)
	if err != nil {
		return false, err
	}
	return subsetOf(w, have), nil
}

// subsetOf reports whether want, decoded JSON, is contained in have: maps
// by key, lists element by element and of equal length, scalars equal.
func subsetOf(want, have any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !subsetOf(v, h[k]) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !subsetOf(w[i], h[i]) {
				return false
			}
		}
		return true
	default:
		return fmt.Sprint(want) == fmt.Sprint(have)
	}
}

// configChanged reports whether the served entities, traffic or capture
// configuration differ, which is what UpdateConfig changes.
func configChanged(old, new map[string]any) bool {
	var fields []FieldChange
	diffValues("", old["config"], new["config"], &fields)
	return len(fields) > 0
}

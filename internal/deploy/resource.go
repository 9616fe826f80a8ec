package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/iam"
)

// A resourceType deploys the resources of one group under `resources:`.
// Each type is one file (res_<group>.go) and one entry of types; plan,
// apply, destroy, refresh and the unsupported-type check read that table,
// and apply's control flow (dependency levels, parallelism, state writes,
// adoption after an interruption) is the same for every type.
type resourceType interface {
	// group is the resources key ("jobs"), the middle of a state address.
	group() string
	// kind names one resource in plans ("job").
	kind() string
	// of returns the bundle's resources of the type.
	of(b *bundle.Bundle) []*bundle.Resource
	// label names a resource in progress lines, e.g. `job train (id 12)`.
	label(key, id string) string
	// desired returns the request to send for r and its normalised JSON
	// form, which state records and plans compare. ids holds the ids
	// known so far by address; a reference to a resource without one is
	// left as its reference text in the normalised form, and the request
	// is only sent once every id it needs is known.
	desired(b *bundle.Bundle, r *bundle.Resource, ids map[string]string) (req any, norm map[string]any, err error)
	// name is the resource's identity in its settings (normalised or
	// configured): what find looks it up by and plans show.
	name(settings map[string]any) string
	// create makes the resource and returns its id and, when the API
	// answers with it, the remote object (passed on to permissions).
	create(ctx context.Context, d *deployer, req any) (id string, remote any, err error)
	// update brings the resource recorded as id, last deployed as old, to
	// req, with the verb its API has (a replace or a patch). newID is the
	// id after a rename, "" when the id stays.
	update(ctx context.Context, d *deployer, id string, old, norm map[string]any, req any) (newID string, remote any, err error)
	// remove deletes it; a resource already gone is not an error.
	remove(ctx context.Context, d *deployer, id string) error
	// replaces reports whether going from old (recorded as id) to norm
	// needs a delete and a create: a change of a field the API cannot
	// update.
	replaces(id string, old, norm map[string]any) bool
	// read returns the resource's settings in the workspace, normalised,
	// for --refresh; nil settings check existence only. A not-found error
	// means it was deleted there.
	read(ctx context.Context, w *databricks.WorkspaceClient, id string) (map[string]any, error)
	// find returns the id of the resource called name that a deploy
	// interrupted before it recorded the id created, or "" when there is
	// none.
	find(ctx context.Context, d *deployer, name string) (string, error)
}

// An aclType is a resource type with object permissions
// (/api/2.0/permissions/<objectType>/<id>).
type aclType interface {
	// objectType is the permissions API's request object type.
	objectType() string
	// ownerLevel is what the deploying identity keeps.
	ownerLevel() iam.PermissionLevel
	// objectID is the ACL's object id ("/jobs/12") from the resource id,
	// the one recorded and what create or update answered; "" when only
	// a read can tell (see lookupObjectID).
	objectID(id, recorded string, remote any) string
	lookupObjectID(ctx context.Context, d *deployer, id string) (string, error)
}

// A grantType is a Unity Catalog resource whose grants a bundle sets.
type grantType interface {
	// securable is the securable type of the permissions API; the full
	// name is the resource's id.
	securable() string
}

// A waitType is a resource that becomes usable some time after it is
// created: its id is recorded at once and its settings only once it is
// ready, so that a deploy interrupted while waiting is finished by the
// next one instead of being reported as deployed.
type waitType interface {
	wait(ctx context.Context, d *deployer, id string) (remote any, err error)
}

// A catalogObject is a resource with Unity Catalog names. The names its
// configuration uses (the schema a volume is in, the model an endpoint
// serves, the table a monitor watches) order it after the bundle's
// resource that makes that name.
type catalogObject interface {
	// catalogNames are the full names of what the resource makes: its own
	// ("main.ml"), and tables it creates (an endpoint's inference table).
	catalogNames(cfg map[string]any) []string
	// catalogUses are the full names the resource needs to exist first.
	catalogUses(cfg map[string]any) []string
}

// types are the resource types deploy handles, in the order plans list
// them and deletes remove them: a type's resources may use those of the
// types after it (a job a pipeline, an endpoint a registered model, a
// volume its schema), never those before.
var types = []resourceType{
	appsType{},
	jobsType{},
	endpointsType{},
	pipelinesType{},
	qualityMonitorsType{},
	experimentsType{},
	modelsType{},
	registeredModelsType{},
	volumesType{},
	schemasType{},
	dashboardsType{},
	alertsType{},
	clustersType{},
	sqlWarehousesType{},
	secretScopesType{},
}

// typeOf returns the resource type of a group, or nil.
func typeOf(group string) resourceType {
	for _, t := range types {
		if t.group() == group {
			return t
		}
	}
	return nil
}

// typeOfKind returns the resource type of a plan kind, or nil.
func typeOfKind(kind string) resourceType {
	for _, t := range types {
		if t.kind() == kind {
			return t
		}
	}
	return nil
}

// addr is a resource's state address, resources.<group>.<key>.
func addr(group, key string) string { return "resources." + group + "." + key }

// splitAddr returns the type and key of a resource's state address; ok is
// false for the address of a permissions or grants entry and for a group
// deploy does not handle.
func splitAddr(a string) (t resourceType, key string, ok bool) {
	rest, found := strings.CutPrefix(a, "resources.")
	if !found {
		return nil, "", false
	}
	group, key, found := strings.Cut(rest, ".")
	if !found || strings.Contains(key, ".") {
		return nil, "", false
	}
	if t = typeOf(group); t == nil {
		return nil, "", false
	}
	return t, key, true
}

func permAddr(a string) string  { return a + ".permissions" }
func grantAddr(a string) string { return a + ".grants" }

// resourcesOf returns the bundle's resources of every type deploy
// handles, by state address.
func resourcesOf(b *bundle.Bundle) map[string]*bundle.Resource {
	out := map[string]*bundle.Resource{}
	for _, t := range types {
		for _, r := range t.of(b) {
			out[addr(r.Type, r.Key)] = r
		}
	}
	return out
}

// ofType returns the bundle's resources of a group from Bundle.Resources.
func ofType(b *bundle.Bundle, group string) []*bundle.Resource {
	var out []*bundle.Resource
	for i := range b.Resources {
		if b.Resources[i].Type == group {
			out = append(out, &b.Resources[i])
		}
	}
	return out
}

// typeIndex orders resource types as types lists them.
func typeIndex(group string) int {
	return slices.IndexFunc(types, func(t resourceType) bool { return t.group() == group })
}

// nameOf is the name field of a resource's settings.
func nameOf(settings map[string]any) string {
	name, _ := settings["name"].(string)
	return name
}

// words is a type's kind in prose: "serving endpoint".
func words(t resourceType) string { return strings.ReplaceAll(t.kind(), "_", " ") }

// addrOf is the state address of a planned resource.
func addrOf(r ResourceChange) string { return addr(typeOfKind(r.Kind).group(), r.Key) }

// byType sorts resource addresses by type, as types lists them, then by
// key: the order in which a destroy or a plan's deletes remove them, as a
// type's resources may use those of types listed after it (a job a
// pipeline, a volume its schema), never those before.
func byType(addrs []string) []string {
	out := slices.Clone(addrs)
	slices.SortFunc(out, func(a, b string) int {
		ta, ka, _ := splitAddr(a)
		tb, kb, _ := splitAddr(b)
		if d := typeIndex(ta.group()) - typeIndex(tb.group()); d != 0 {
			return d
		}
		return strings.Compare(ka, kb)
	})
	return out
}

// errNoName is the error of a resource that needs a name and has none.
func errNoName(what, group, key string) error {
	return fmt.Errorf("%s %q has no name; set resources.%s.%s.name", what, key, group, key)
}

// settingsOf decodes a resource's configuration, with the ids known so
// far in place of its references, into its create request T and returns
// the request and its normalised form.
func settingsOf[T any](r *bundle.Resource, ids map[string]string, what string) (*T, map[string]any, error) {
	raw, err := json.Marshal(resolveRefs(r.Config, ids))
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode %s %q: %w", what, r.Key, err)
	}
	req := new(T)
	if err := json.Unmarshal(raw, req); err != nil {
		return nil, nil, fmt.Errorf("failed to read the settings of %s %q: %w", what, r.Key, err)
	}
	norm, err := normalise(req)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode %s %q: %w", what, r.Key, err)
	}
	return req, norm, nil
}

// fieldAt returns the value at a dotted path of decoded JSON, or nil.
func fieldAt(m map[string]any, dotted string) any {
	var v any = m
	for _, k := range strings.Split(dotted, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// convert copies the fields of src into dst through their JSON form: a
// create request into the update request of the same API.
func convert(src, dst any) error {
	raw, err := json.Marshal(src)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, dst)
}

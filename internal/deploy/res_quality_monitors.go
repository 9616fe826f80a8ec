package deploy

import (
	"context"
	"fmt"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/catalog"
)

// qualityMonitorsType deploys Lakehouse Monitoring quality monitors. A
// monitor's id is the full name of the table it watches (which must
// exist), as the Databricks CLI records it. Its schedule, output schema
// and profile settings are updated in place; a new table or assets
// directory replaces it.
type qualityMonitorsType struct{}

func (qualityMonitorsType) group() string { return "quality_monitors" }
func (qualityMonitorsType) kind() string  { return "quality_monitor" }
func (qualityMonitorsType) of(b *bundle.Bundle) []*bundle.Resource {
	return ofType(b, "quality_monitors")
}
func (qualityMonitorsType) label(_, id string) string { return "quality monitor on " + id }
func (qualityMonitorsType) name(s map[string]any) string {
	name, _ := s["table_name"].(string)
	return name
}
func (qualityMonitorsType) idIsName() {}
func (qualityMonitorsType) caseless() {}

func (qualityMonitorsType) catalogNames(map[string]any) []string { return nil }

// catalogUses are the table the monitor watches (an endpoint's inference
// table is made by the endpoint), its schema and the output schema.
func (t qualityMonitorsType) catalogUses(cfg map[string]any) []string {
	out := []string{t.name(cfg), schemaOf(t.name(cfg))}
	if s, _ := cfg["output_schema_name"].(string); s != "" {
		out = append(out, s)
	}
	return out
}

func (t qualityMonitorsType) desired(_ *bundle.Bundle, r *bundle.Resource, ids map[string]string) (any, map[string]any, error) {
	req, norm, err := settingsOf[catalog.CreateMonitor](r, ids, "quality monitor")
	if err != nil {
		return nil, nil, err
	}
	req.TableName = t.name(r.Config)
	if schemaOf(req.TableName) == "" {
		return nil, nil, fmt.Errorf("quality monitor %q watches table %q; set resources.quality_monitors.%s.table_name to the table's full name, catalog.schema.table", r.Key, req.TableName, r.Key)
	}
	norm["table_name"] = req.TableName
	return req, norm, nil
}

func (qualityMonitorsType) create(ctx context.Context, d *deployer, req any) (string, any, error) {
	c := req.(*catalog.CreateMonitor)
	info, err := d.w.QualityMonitors.Create(ctx, *c)
	if err != nil {
		return "", nil, err
	}
	return c.TableName, info, nil
}

func (qualityMonitorsType) update(ctx context.Context, d *deployer, id string, _, _ map[string]any, req any) (string, any, error) {
	var u catalog.UpdateMonitor
	if err := convert(req, &u); err != nil {
		return "", nil, fmt.Errorf("failed to encode the update of the monitor on %s: %w", id, err)
	}
	u.TableName = id
	info, err := d.w.QualityMonitors.Update(ctx, u)
	return "", info, err
}

func (qualityMonitorsType) remove(ctx context.Context, d *deployer, id string) error {
	_, err := d.w.QualityMonitors.Delete(ctx, catalog.DeleteQualityMonitorRequest{TableName: id})
	return err
}

func (t qualityMonitorsType) replaces(id string, old, norm map[string]any) bool {
	return !sameName(id, t.name(norm)) || fieldsDiffer(old, norm, []string{"assets_dir"})
}

func (qualityMonitorsType) read(ctx context.Context, w *databricks.WorkspaceClient, id string) (map[string]any, error) {
	info, err := w.QualityMonitors.Get(ctx, catalog.GetQualityMonitorRequest{TableName: id})
	if err != nil {
		return nil, err
	}
	return normalise(info)
}

// alignRemote: the create request's warehouse_id and skip_builtin_dashboard
// are never read back, and the table's name comes back in lower case.
func (qualityMonitorsType) alignRemote(deployed, remote map[string]any) {
	for _, f := range []string{"warehouse_id", "skip_builtin_dashboard"} {
		if v, ok := deployed[f]; ok {
			remote[f] = v
		}
	}
	alignNames(deployed, remote, "table_name", "output_schema_name")
}

func (qualityMonitorsType) find(ctx context.Context, d *deployer, table string) (string, error) {
	if _, err := d.w.QualityMonitors.Get(ctx, catalog.GetQualityMonitorRequest{TableName: table}); err != nil {
		if isNotFound(err) {
			return "", nil
		}
		return "", err
	}
	return table, nil
}

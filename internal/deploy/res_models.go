package deploy

import (
	"context"
	"fmt"
	"slices"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/ml"
)

// modelsType deploys models of the workspace model registry. A model's id
// is its name, as the Databricks CLI records it. Its description and tags
// are updated and its name changed in place (its versions stay).
// Permissions are set on its internal id, which only a read gives.
type modelsType struct{}

func (modelsType) group() string { return "models" }
func (modelsType) kind() string  { return "model" }
func (modelsType) of(b *bundle.Bundle) []*bundle.Resource {
	return ofType(b, "models")
}
func (modelsType) label(_, id string) string    { return "model " + id }
func (modelsType) name(s map[string]any) string { return nameOf(s) }

func (modelsType) desired(_ *bundle.Bundle, r *bundle.Resource, ids map[string]string) (any, map[string]any, error) {
	req, norm, err := settingsOf[ml.CreateModelRequest](r, ids, "model")
	if err == nil && req.Name == "" {
		err = errNoName("model", r.Type, r.Key)
	}
	return req, norm, err
}

func (modelsType) create(ctx context.Context, d *deployer, req any) (string, any, error) {
	c := req.(*ml.CreateModelRequest)
	if _, err := d.w.ModelRegistry.CreateModel(ctx, *c); err != nil {
		return "", nil, err
	}
	return c.Name, nil, nil
}

func (modelsType) update(ctx context.Context, d *deployer, id string, _, _ map[string]any, req any) (string, any, error) {
	c := req.(*ml.CreateModelRequest)
	if c.Name != id {
		if _, err := d.w.ModelRegistry.RenameModel(ctx, ml.RenameModelRequest{Name: id, NewName: c.Name}); err != nil {
			return "", nil, err
		}
	}
	if _, err := d.w.ModelRegistry.UpdateModel(ctx, ml.UpdateModelRequest{Name: c.Name, Description: c.Description, ForceSendFields: []string{"Description"}}); err != nil {
		return "", nil, err
	}
	got, err := d.w.ModelRegistry.GetModel(ctx, ml.GetModelRequest{Name: c.Name})
	if err != nil {
		return "", nil, err
	}
	var have []ml.ModelTag
	if got.RegisteredModelDatabricks != nil {
		have = got.RegisteredModelDatabricks.Tags
	}
	for _, t := range c.Tags {
		if slices.ContainsFunc(have, func(h ml.ModelTag) bool { return h.Key == t.Key && h.Value == t.Value }) {
			continue
		}
		if err := d.w.ModelRegistry.SetModelTag(ctx, ml.SetModelTagRequest{Name: c.Name, Key: t.Key, Value: t.Value}); err != nil {
			return "", nil, fmt.Errorf("failed to set tag %q: %w", t.Key, err)
		}
	}
	return c.Name, got, nil
}

func (modelsType) remove(ctx context.Context, d *deployer, id string) error {
	return d.w.ModelRegistry.DeleteModel(ctx, ml.DeleteModelRequest{Name: id})
}

func (modelsType) replaces(string, map[string]any, map[string]any) bool { return false }

func (modelsType) read(ctx context.Context, w *databricks.WorkspaceClient, id string) (map[string]any, error) {
	got, err := w.ModelRegistry.GetModel(ctx, ml.GetModelRequest{Name: id})
	if err != nil {
		return nil, err
	}
	m := got.RegisteredModelDatabricks
	if m == nil {
		return map[string]any{}, nil
	}
	tags := make([]ml.ModelTag, 0, len(m.Tags))
	tags = append(tags, m.Tags...)
	return normalise(ml.CreateModelRequest{Name: m.Name, Description: m.Description, Tags: tags})
}

func (modelsType) find(ctx context.Context, d *deployer, name string) (string, error) {
	if _, err := d.w.ModelRegistry.GetModel(ctx, ml.GetModelRequest{Name: name}); err != nil {
		if isNotFound(err) {
			return "", nil
		}
		return "", err
	}
	return name, nil
}

func (modelsType) objectType() string              { return "registered-models" }
func (modelsType) ownerLevel() iam.PermissionLevel { return iam.PermissionLevelCanManage }
func (modelsType) objectID(_, recorded string, remote any) string {
	if got, ok := remote.(*ml.GetModelResponse); ok && got != nil && got.RegisteredModelDatabricks != nil {
		return "/registered-models/" + got.RegisteredModelDatabricks.Id
	}
	return recorded
}
func (modelsType) lookupObjectID(ctx context.Context, d *deployer, name string) (string, error) {
	got, err := d.w.ModelRegistry.GetModel(ctx, ml.GetModelRequest{Name: name})
	if err != nil {
		return "", fmt.Errorf("failed to read model %q: %w", name, err)
	}
	if got.RegisteredModelDatabricks == nil {
		return "", fmt.Errorf("model %q has no id in the registry's answer", name)
	}
	return "/registered-models/" + got.RegisteredModelDatabricks.Id, nil
}

package deploy

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/ml"
)

// experimentsType deploys MLflow experiments. An experiment's id is its
// experiment_id and its name a workspace path: the parent folder is made
// first. A deleted experiment holding the name (experiments are deleted
// softly, and the name stays taken) is restored rather than duplicated.
// A new name renames it and its tags are set in place; a new artifact
// location replaces it: the old one is renamed to <name>-deleted-<id> and
// deleted, as a deleted experiment keeps its name taken. The workspace answers names without the /Workspace prefix, which
// is no change.
type experimentsType struct{}

func (experimentsType) group() string { return "experiments" }
func (experimentsType) kind() string  { return "experiment" }
func (experimentsType) of(b *bundle.Bundle) []*bundle.Resource {
	return ofType(b, "experiments")
}
func (experimentsType) label(key, id string) string {
	return fmt.Sprintf("experiment %s (id %s)", key, id)
}
func (experimentsType) name(s map[string]any) string { return nameOf(s) }

func (experimentsType) desired(_ *bundle.Bundle, r *bundle.Resource, ids map[string]string) (any, map[string]any, error) {
	req, norm, err := settingsOf[ml.CreateExperiment](r, ids, "experiment")
	switch {
	case err != nil:
	case req.Name == "":
		err = errNoName("experiment", r.Type, r.Key)
	case !path.IsAbs(req.Name):
		err = fmt.Errorf("experiment %q is named %q; an experiment's name is an absolute workspace path, such as /Users/<user>/%s", r.Key, req.Name, req.Name)
	}
	return req, norm, err
}

func (experimentsType) create(ctx context.Context, d *deployer, req any) (string, any, error) {
	c := req.(*ml.CreateExperiment)
	if err := d.w.Workspace.MkdirsByPath(ctx, path.Dir(c.Name)); err != nil {
		return "", nil, fmt.Errorf("failed to create the folder of experiment %q: %w", c.Name, err)
	}
	resp, err := d.w.Experiments.CreateExperiment(ctx, *c)
	if err == nil {
		return resp.ExperimentId, nil, nil
	}
	if !isExists(err) {
		return "", nil, err
	}
	got, gerr := d.w.Experiments.GetByName(ctx, ml.GetByNameRequest{ExperimentName: c.Name})
	if gerr != nil && !isNotFound(gerr) {
		return "", nil, fmt.Errorf("failed to look up the experiment holding the name %q: %w", c.Name, gerr)
	}
	if gerr != nil || got.Experiment == nil || got.Experiment.LifecycleStage != "deleted" {
		return "", nil, fmt.Errorf("%w; an experiment with this name exists already and no deployment of this bundle recorded it: delete it or choose another name", err)
	}
	id := got.Experiment.ExperimentId
	if c.ArtifactLocation != "" && got.Experiment.ArtifactLocation != c.ArtifactLocation {
		return "", nil, fmt.Errorf("%w; the deleted experiment %s holding the name keeps its artifacts in %q, not %q, which cannot change: restore it and delete it under another name, or choose another name", err, id, got.Experiment.ArtifactLocation, c.ArtifactLocation)
	}
	if err := d.w.Experiments.RestoreExperiment(ctx, ml.RestoreExperiment{ExperimentId: id}); err != nil {
		return "", nil, fmt.Errorf("failed to restore the deleted experiment %s holding the name: %w", id, err)
	}
	if err := setExperimentTags(ctx, d, id, got.Experiment.Tags, c.Tags); err != nil {
		return "", nil, err
	}
	d.progress("restored deleted experiment %s (id %s) instead of creating a new one", c.Name, id)
	return id, nil, nil
}

// removeToReplace deletes an experiment that is replaced, renaming it to
// <name>-deleted-<id> first: a deleted experiment keeps its name taken,
// which the new one needs. Each step is skipped when done already, so a
// replace interrupted half-way is finished by the next deploy.
func (experimentsType) removeToReplace(ctx context.Context, d *deployer, id string) error {
	got, err := d.w.Experiments.GetExperiment(ctx, ml.GetExperimentRequest{ExperimentId: id})
	if err != nil {
		return err
	}
	e := got.Experiment
	suffix := "-deleted-" + id
	if strings.HasSuffix(e.Name, suffix) && e.LifecycleStage == "deleted" {
		return nil
	}
	if e.LifecycleStage == "deleted" {
		// MLflow renames only active experiments.
		if err := d.w.Experiments.RestoreExperiment(ctx, ml.RestoreExperiment{ExperimentId: id}); err != nil {
			return fmt.Errorf("failed to restore the deleted experiment %s to rename it: %w", id, err)
		}
	}
	if !strings.HasSuffix(e.Name, suffix) {
		if err := d.w.Experiments.UpdateExperiment(ctx, ml.UpdateExperiment{ExperimentId: id, NewName: e.Name + suffix}); err != nil {
			return fmt.Errorf("failed to rename experiment %s to %q before deleting it: %w", id, e.Name+suffix, err)
		}
	}
	return d.w.Experiments.DeleteExperiment(ctx, ml.DeleteExperiment{ExperimentId: id})
}

// sameExperimentName reports whether two experiment names are one
// workspace path: the workspace answers them without the /Workspace prefix
// a bundle may give.
func sameExperimentName(a, b string) bool {
	strip := func(s string) string {
		if rest, ok := strings.CutPrefix(s, "/Workspace/"); ok {
			return "/" + rest
		}
		return s
	}
	return strip(a) == strip(b)
}

func (experimentsType) update(ctx context.Context, d *deployer, id string, _, _ map[string]any, req any) (string, any, error) {
	c := req.(*ml.CreateExperiment)
	got, err := d.w.Experiments.GetExperiment(ctx, ml.GetExperimentRequest{ExperimentId: id})
	if err != nil {
		return "", nil, err
	}
	if !sameExperimentName(got.Experiment.Name, c.Name) {
		if err := d.w.Workspace.MkdirsByPath(ctx, path.Dir(c.Name)); err != nil {
			return "", nil, fmt.Errorf("failed to create the folder of experiment %q: %w", c.Name, err)
		}
		if err := d.w.Experiments.UpdateExperiment(ctx, ml.UpdateExperiment{ExperimentId: id, NewName: c.Name}); err != nil {
			return "", nil, err
		}
	}
	return "", nil, setExperimentTags(ctx, d, id, got.Experiment.Tags, c.Tags)
}

// setExperimentTags sets the tags of want that have holds with another
// value or not at all. The API deletes no tag; one removed from the
// bundle is left on the experiment, as with the Databricks CLI.
func setExperimentTags(ctx context.Context, d *deployer, id string, have, want []ml.ExperimentTag) error {
	for _, t := range want {
		if slices.ContainsFunc(have, func(h ml.ExperimentTag) bool { return h.Key == t.Key && h.Value == t.Value }) {
			continue
		}
		if err := d.w.Experiments.SetExperimentTag(ctx, ml.SetExperimentTag{ExperimentId: id, Key: t.Key, Value: t.Value}); err != nil {
			return fmt.Errorf("failed to set tag %q: %w", t.Key, err)
		}
	}
	return nil
}

func (experimentsType) remove(ctx context.Context, d *deployer, id string) error {
	return d.w.Experiments.DeleteExperiment(ctx, ml.DeleteExperiment{ExperimentId: id})
}

func (experimentsType) replaces(_ string, old, norm map[string]any) bool {
	return fieldsDiffer(old, norm, []string{"artifact_location"})
}

// read returns the experiment's settings; a deleted one is missing.
func (experimentsType) read(ctx context.Context, w *databricks.WorkspaceClient, id string) (map[string]any, error) {
	got, err := w.Experiments.GetExperiment(ctx, ml.GetExperimentRequest{ExperimentId: id})
	if err != nil {
		return nil, err
	}
	if got.Experiment == nil || got.Experiment.LifecycleStage == "deleted" {
		return nil, fmt.Errorf("experiment %s is deleted: %w", id, apierr.ErrNotFound)
	}
	// The tags MLflow sets itself (mlflow.ownerId, ...) are not the bundle's.
	var tags []ml.ExperimentTag
	for _, t := range got.Experiment.Tags {
		if !strings.HasPrefix(t.Key, "mlflow.") {
			tags = append(tags, t)
		}
	}
	return normalise(ml.CreateExperiment{Name: got.Experiment.Name, ArtifactLocation: got.Experiment.ArtifactLocation, Tags: tags})
}

// alignRemote gives the name read back the bundle's form when both name
// the same path, so that a refresh does not report the /Workspace prefix
// the workspace drops as a change.
func (experimentsType) alignRemote(deployed, remote map[string]any) {
	d, _ := deployed["name"].(string)
	r, _ := remote["name"].(string)
	if sameExperimentName(d, r) {
		remote["name"] = d
	}
}

func (experimentsType) find(ctx context.Context, d *deployer, name string) (string, error) {
	got, err := d.w.Experiments.GetByName(ctx, ml.GetByNameRequest{ExperimentName: name})
	switch {
	case isNotFound(err):
		return "", nil
	case err != nil:
		return "", err
	case got.Experiment == nil || got.Experiment.LifecycleStage == "deleted":
		return "", nil
	}
	return got.Experiment.ExperimentId, nil
}

func (experimentsType) objectType() string              { return "experiments" }
func (experimentsType) ownerLevel() iam.PermissionLevel { return iam.PermissionLevelCanManage }
func (experimentsType) objectID(id, _ string, _ any) string {
	return "/experiments/" + id
}
func (experimentsType) lookupObjectID(_ context.Context, _ *deployer, id string) (string, error) {
	return "/experiments/" + id, nil
}

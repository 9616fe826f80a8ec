package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"path"

	"github.com/brickci/brickci/internal/bundle"
)

// metadata is metadata.json, which jobs' deployment.metadata_file_path
// points at and the workspace UI reads to show where a deployment came
// from. Its shape is the Databricks CLI's (bundle/metadata), field for
// field and in the same order, at version 1.
type metadata struct {
	Version int            `json:"version"`
	Config  metadataConfig `json:"config"`
	Extra   metadataExtra  `json:"extra"`
}

type metadataConfig struct {
	Bundle    metadataBundle    `json:"bundle"`
	Workspace metadataWorkspace `json:"workspace"`
	Resources metadataResources `json:"resources"`
	Presets   metadataPresets   `json:"presets"`
}

// metadataBundle is config.bundle. Git is always present, empty when the
// checkout is unknown, as the CLI writes it.
type metadataBundle struct {
	Name   string      `json:"name,omitempty"`
	Target string      `json:"target,omitempty"`
	Mode   string      `json:"mode,omitempty"`
	Git    metadataGit `json:"git"`
}

// metadataGit holds the bundle.git values the CLI records; it does not
// record actual_branch.
type metadataGit struct {
	Branch         string `json:"branch,omitempty"`
	OriginURL      string `json:"origin_url,omitempty"`
	Commit         string `json:"commit,omitempty"`
	BundleRootPath string `json:"bundle_root_path,omitempty"`
}

type metadataWorkspace struct {
	FilePath string `json:"file_path"`
}

// metadataResources lists the deployed resources the UI links back to
// their files: the CLI records jobs, pipelines and dashboards only.
type metadataResources struct {
	Jobs map[string]metadataResource `json:"jobs,omitempty"`
}

type metadataResource struct {
	ID           string `json:"id,omitempty"`
	RelativePath string `json:"relative_path"`
}

// metadataPresets is config.presets; brickci copies files, so a deployment
// is never source-linked.
type metadataPresets struct {
	SourceLinkedDeployment bool `json:"source_linked_deployment"`
}

// metadataExtra is extra; git_folder_path is only set by deploys run from
// a Git folder inside the workspace, which brickci never is.
type metadataExtra struct {
	GitFolderPath string `json:"git_folder_path,omitempty"`
}

// buildMetadata is the metadata of the deployment of b with the resource
// ids in rs: every job of the bundle that has an id.
func buildMetadata(b *bundle.Bundle, rs ResourcesState) metadata {
	jobsMeta := map[string]metadataResource{}
	for k, j := range b.Jobs {
		e, ok := rs.State[addr("jobs", k)]
		if !ok || e.ID == "" {
			continue
		}
		jobsMeta[k] = metadataResource{ID: e.ID, RelativePath: relativeLocation(b, j.Location)}
	}
	return metadata{
		Version: 1,
		Config: metadataConfig{
			Bundle: metadataBundle{Name: b.Name, Target: b.Target, Mode: b.Mode, Git: metadataGit{
				Branch: b.Git.Branch, OriginURL: b.Git.OriginURL, Commit: b.Git.Commit, BundleRootPath: b.Git.BundleRootPath,
			}},
			Workspace: metadataWorkspace{FilePath: b.Workspace.FilePath},
			Resources: metadataResources{Jobs: jobsMeta},
		},
	}
}

func (d *deployer) writeMetadata(ctx context.Context) error {
	data, err := d.metadataBytes()
	if err != nil {
		return err
	}
	return d.writeMetadataBytes(ctx, data)
}

// metadataBytes is metadata.json for the resources in state, as written.
func (d *deployer) metadataBytes() ([]byte, error) {
	data, err := json.MarshalIndent(buildMetadata(d.b, d.st.resources), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("failed to encode %s: %w", metadataFile, err)
	}
	return data, nil
}

func (d *deployer) writeMetadataBytes(ctx context.Context, data []byte) error {
	if err := d.fs.write(ctx, path.Join(d.b.Workspace.StatePath, metadataFile), data, "", true); err != nil {
		return fmt.Errorf("failed to write %s: %w", metadataFile, err)
	}
	return nil
}

// relativeLocation is the file defining a resource, relative to the bundle
// root, or "" when unknown.
func relativeLocation(b *bundle.Bundle, loc bundle.Location) string {
	if loc.File == "" {
		return ""
	}
	if b.Dir != "" {
		if rel, ok := cutDir(loc.File, b.Dir); ok {
			return rel
		}
	}
	return path.Base(loc.File)
}

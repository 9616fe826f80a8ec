package emulator

import (
	"bytes"
	"maps"
	"reflect"
	"slices"

	"github.com/databricks/databricks-sdk-go/service/catalog"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/databricks/databricks-sdk-go/service/ml"
	"github.com/databricks/databricks-sdk-go/service/pipelines"
	"github.com/databricks/databricks-sdk-go/service/serving"
)

// The accessors below expose the remote state of one workspace for
// assertions. key is the bearer token of a personal access token, or the
// client id for tokens issued by the OAuth endpoints. Workspace paths are
// canonical: the "/Workspace" prefix is removed. Results are copies that
// leave out ids and timestamps where they are not part of the state, so
// that "the state after deploy A equals the state after deploy B" is one
// cmp.Diff. An unknown key yields empty results.

// Object is a workspace object as the accessors report it.
type Object struct {
	// Type is DIRECTORY, NOTEBOOK, FILE or MLFLOW_EXPERIMENT.
	Type string
	// Language is set for notebooks (PYTHON, SQL, SCALA, R).
	Language string
	// Content is the file content or notebook source (with its header
	// line); nil for directories and experiments.
	Content []byte
}

// Files returns path → content of every file and notebook.
func (s *Server) Files(key string) map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]byte{}
	if ws := s.peekWorkspace(key); ws != nil {
		for p, o := range ws.objects {
			if o.kind == kindFile || o.kind == kindNotebook {
				out[p] = bytes.Clone(o.content)
			}
		}
	}
	return out
}

// Objects returns path → object for every object, directories included.
func (s *Server) Objects(key string) map[string]Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Object{}
	if ws := s.peekWorkspace(key); ws != nil {
		for p, o := range ws.objects {
			obj := Object{Type: string(o.kind), Language: string(o.language)}
			if o.kind == kindFile || o.kind == kindNotebook {
				obj.Content = bytes.Clone(o.content)
			}
			out[p] = obj
		}
	}
	return out
}

// Jobs returns job id → settings of every job.
func (s *Server) Jobs(key string) map[int64]jobs.JobSettings {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int64]jobs.JobSettings{}
	if ws := s.peekWorkspace(key); ws != nil {
		for id, j := range ws.jobs {
			out[id] = normalized(j.settings)
		}
	}
	return out
}

// JobsByName returns job name → settings; jobs sharing a name are all
// listed under it in id order.
func (s *Server) JobsByName(key string) map[string][]jobs.JobSettings {
	byID := s.Jobs(key)
	out := map[string][]jobs.JobSettings{}
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		out[byID[id].Name] = append(out[byID[id].Name], byID[id])
	}
	return out
}

// Runs returns every job run as runs/get reports it now, in run id order.
// ForceSendFields are cleared in all accessor results.
func (s *Server) Runs(key string) []jobs.Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []jobs.Run
	if ws := s.peekWorkspace(key); ws != nil {
		now := s.clock()
		for _, id := range slices.Sorted(maps.Keys(ws.runs)) {
			out = append(out, normalized(ws.runs[id].view(now)))
		}
	}
	return out
}

// Endpoints returns endpoint name → endpoint as the get call reports it now.
func (s *Server) Endpoints(key string) map[string]serving.ServingEndpointDetailed {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]serving.ServingEndpointDetailed{}
	if ws := s.peekWorkspace(key); ws != nil {
		now := s.clock()
		for name, e := range ws.endpoints {
			out[name] = normalized(e.view(now))
		}
	}
	return out
}

// Permissions returns "<type>/<id>" (for example "jobs/1001") → the access
// control list the permissions API reports for that object.
func (s *Server) Permissions(key string) map[string][]iam.AccessControlResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]iam.AccessControlResponse{}
	if ws := s.peekWorkspace(key); ws != nil {
		for k, a := range ws.acls {
			out[k] = normalized(a.view().AccessControlList)
		}
	}
	return out
}

// Workspaces returns the keys of all workspaces that received a request.
func (s *Server) Workspaces() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.spaces))
}

// clearForceSend drops the SDK's ForceSendFields bookkeeping everywhere in
// *v: it records which zero values were present in JSON and would make
// equal states compare different.
func clearForceSend(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			clearForceSend(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if !f.CanSet() {
				continue
			}
			if v.Type().Field(i).Name == "ForceSendFields" {
				f.SetZero()
				continue
			}
			clearForceSend(f)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			clearForceSend(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			clearForceSend(e)
			v.SetMapIndex(k, e)
		}
	}
}

func normalized[T any](v T) T {
	var out T
	if convert(v, &out) != nil {
		return v
	}
	clearForceSend(reflect.ValueOf(&out))
	return out
}

// Schemas returns full name → schema as the get call reports it, without
// ids and timestamps.
func (s *Server) Schemas(key string) map[string]catalog.SchemaInfo {
	return ucState(s, key, func(uc *unityCatalog) map[string]*catalog.SchemaInfo { return uc.schemas },
		func(v *catalog.SchemaInfo) { v.SchemaId, v.MetastoreId, v.CreatedAt, v.UpdatedAt = "", "", 0, 0 })
}

// Volumes returns full name → volume, without ids and timestamps.
func (s *Server) Volumes(key string) map[string]catalog.VolumeInfo {
	return ucState(s, key, func(uc *unityCatalog) map[string]*catalog.VolumeInfo { return uc.volumes },
		func(v *catalog.VolumeInfo) { v.VolumeId, v.MetastoreId, v.CreatedAt, v.UpdatedAt = "", "", 0, 0 })
}

// RegisteredModels returns full name → Unity Catalog registered model,
// without ids and timestamps.
func (s *Server) RegisteredModels(key string) map[string]catalog.RegisteredModelInfo {
	return ucState(s, key, func(uc *unityCatalog) map[string]*catalog.RegisteredModelInfo { return uc.models },
		func(v *catalog.RegisteredModelInfo) { v.MetastoreId, v.CreatedAt, v.UpdatedAt = "", 0, 0 })
}

// Grants returns "<SECURABLE_TYPE>/<full name>" (for example
// "SCHEMA/main.staging"; registered models are FUNCTION) → the privilege
// assignments the grants API reports, principals and privileges sorted.
func (s *Server) Grants(key string) map[string][]catalog.PrivilegeAssignment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]catalog.PrivilegeAssignment{}
	if ws := s.peekWorkspace(key); ws != nil {
		for k := range ws.uc.grants {
			out[k] = normalized(ws.uc.assignments(k))
		}
	}
	return out
}

func ucState[V any](s *Server, key string, pick func(*unityCatalog) map[string]*V, strip func(*V)) map[string]V {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]V{}
	if ws := s.peekWorkspace(key); ws != nil {
		for name, v := range pick(ws.uc) {
			c := normalized(*v)
			strip(&c)
			out[name] = c
		}
	}
	return out
}

// Experiments returns name → MLflow experiment, deleted ones included (with
// lifecycle stage "deleted"), without timestamps.
func (s *Server) Experiments(key string) map[string]ml.Experiment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]ml.Experiment{}
	if ws := s.peekWorkspace(key); ws != nil {
		for _, e := range ws.experiments {
			v := normalized(e.view())
			v.CreationTime, v.LastUpdateTime = 0, 0
			out[v.Name] = v
		}
	}
	return out
}

// Models returns name → model of the workspace model registry as the
// Databricks get call reports it, without timestamps.
func (s *Server) Models(key string) map[string]ml.ModelDatabricks {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]ml.ModelDatabricks{}
	if ws := s.peekWorkspace(key); ws != nil {
		for name, m := range ws.registry {
			v := normalized(*m.databricks())
			v.CreationTimestamp, v.LastUpdatedTimestamp = 0, 0
			out[name] = v
		}
	}
	return out
}

// Monitors returns table full name → quality monitor as the get call
// reports it now.
func (s *Server) Monitors(key string) map[string]catalog.MonitorInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]catalog.MonitorInfo{}
	if ws := s.peekWorkspace(key); ws != nil {
		now := s.clock()
		for name, m := range ws.monitors {
			out[name] = normalized(m.view(now))
		}
	}
	return out
}

// Pipelines returns pipeline id → spec of every pipeline.
func (s *Server) Pipelines(key string) map[string]pipelines.PipelineSpec {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]pipelines.PipelineSpec{}
	if ws := s.peekWorkspace(key); ws != nil {
		for id, p := range ws.pipelines {
			out[id] = normalized(p.spec)
		}
	}
	return out
}

// PipelineUpdates returns pipeline id → its updates, oldest first, as the
// get update call reports them now.
func (s *Server) PipelineUpdates(key string) map[string][]pipelines.UpdateInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]pipelines.UpdateInfo{}
	if ws := s.peekWorkspace(key); ws != nil {
		now := s.clock()
		for id, p := range ws.pipelines {
			for _, u := range p.updates {
				out[id] = append(out[id], normalized(u.view(now)))
			}
		}
	}
	return out
}

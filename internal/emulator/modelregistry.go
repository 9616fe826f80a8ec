package emulator

import (
	"fmt"
	"maps"
	"slices"

	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/ml"
)

// registeredModel is a model of the workspace (MLflow) model registry,
// keyed by name; its id is what the permissions API takes.
type registeredModel struct {
	info ml.ModelDatabricks
}

func (m *registeredModel) model() *ml.Model {
	return &ml.Model{
		Name: m.info.Name, Description: m.info.Description, Tags: slices.Clone(m.info.Tags), UserId: m.info.UserId,
		CreationTimestamp: m.info.CreationTimestamp, LastUpdatedTimestamp: m.info.LastUpdatedTimestamp,
	}
}

func (m *registeredModel) databricks() *ml.ModelDatabricks {
	out := m.info
	out.Tags = slices.Clone(m.info.Tags)
	return &out
}

func (ws *workspace) registeredModel(name string) (*registeredModel, error) {
	if name == "" {
		return nil, errInvalidParameter("name is required")
	}
	m, ok := ws.registry[name]
	if !ok {
		return nil, errDoesNotExist("Registered Model with name=%s not found", name)
	}
	return m, nil
}

func handleRegistryCreate(s *Server, c *call) (any, error) {
	var req ml.CreateModelRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, errInvalidParameter("name is required")
	}
	if _, ok := c.ws.registry[req.Name]; ok {
		return nil, errAlreadyExists("Registered Model (name=%s) already exists.", req.Name)
	}
	id := fmt.Sprintf("%032x", c.ws.newID())
	m := &registeredModel{info: ml.ModelDatabricks{
		Id: id, Name: req.Name, Description: req.Description, UserId: c.who.userName,
		CreationTimestamp: millis(c.now), LastUpdatedTimestamp: millis(c.now), PermissionLevel: ml.PermissionLevelCanManage,
	}}
	for _, t := range req.Tags {
		setModelTag(m, t.Key, t.Value)
	}
	c.ws.registry[req.Name] = m
	owner := c.ws.owner()
	owner.PermissionLevel = iam.PermissionLevelCanManage
	a, err := newACL(permissionTypes["registered-models"], id, []iam.AccessControlRequest{owner})
	if err != nil {
		return nil, err
	}
	c.ws.acls[aclKey("registered-models", id)] = a
	return ml.CreateModelResponse{RegisteredModel: m.model()}, nil
}

func setModelTag(m *registeredModel, key, value string) {
	for i := range m.info.Tags {
		if m.info.Tags[i].Key == key {
			m.info.Tags[i].Value = value
			return
		}
	}
	m.info.Tags = append(m.info.Tags, ml.ModelTag{Key: key, Value: value})
}

func handleRegistryGet(s *Server, c *call) (any, error) {
	m, err := c.ws.registeredModel(c.query("name"))
	if err != nil {
		return nil, err
	}
	return ml.GetModelResponse{RegisteredModelDatabricks: m.databricks()}, nil
}

func handleRegistryUpdate(s *Server, c *call) (any, error) {
	var req ml.UpdateModelRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	m, err := c.ws.registeredModel(req.Name)
	if err != nil {
		return nil, err
	}
	m.info.Description, m.info.LastUpdatedTimestamp = req.Description, millis(c.now)
	return ml.UpdateModelResponse{RegisteredModel: m.model()}, nil
}

func handleRegistryRename(s *Server, c *call) (any, error) {
	var req ml.RenameModelRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	m, err := c.ws.registeredModel(req.Name)
	if err != nil {
		return nil, err
	}
	if req.NewName == "" {
		return nil, errInvalidParameter("new_name is required")
	}
	if req.NewName != req.Name {
		if _, ok := c.ws.registry[req.NewName]; ok {
			return nil, errAlreadyExists("Registered Model (name=%s) already exists.", req.NewName)
		}
		delete(c.ws.registry, req.Name)
		m.info.Name, m.info.LastUpdatedTimestamp = req.NewName, millis(c.now)
		c.ws.registry[req.NewName] = m
	}
	return ml.RenameModelResponse{RegisteredModel: m.model()}, nil
}

func handleRegistryDelete(s *Server, c *call) (any, error) {
	m, err := c.ws.registeredModel(c.query("name"))
	if err != nil {
		return nil, err
	}
	delete(c.ws.registry, m.info.Name)
	delete(c.ws.acls, aclKey("registered-models", m.info.Id))
	return nil, nil
}

func handleRegistrySetTag(s *Server, c *call) (any, error) {
	var req ml.SetModelTagRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Key == "" {
		return nil, errInvalidParameter("key is required")
	}
	m, err := c.ws.registeredModel(req.Name)
	if err != nil {
		return nil, err
	}
	setModelTag(m, req.Key, req.Value)
	m.info.LastUpdatedTimestamp = millis(c.now)
	return nil, nil
}

func handleRegistryDeleteTag(s *Server, c *call) (any, error) {
	m, err := c.ws.registeredModel(c.query("name"))
	if err != nil {
		return nil, err
	}
	m.info.Tags = slices.DeleteFunc(m.info.Tags, func(t ml.ModelTag) bool { return t.Key == c.query("key") })
	return nil, nil
}

func handleRegistryList(s *Server, c *call) (any, error) {
	resp := ml.ListModelsResponse{}
	for _, name := range slices.Sorted(maps.Keys(c.ws.registry)) {
		resp.RegisteredModels = append(resp.RegisteredModels, *c.ws.registry[name].model())
	}
	return resp, nil
}

// registryModelByID finds a registered model by the id permissions use.
func (ws *workspace) registryModelByID(id string) *registeredModel {
	for _, m := range ws.registry {
		if m.info.Id == id {
			return m
		}
	}
	return nil
}

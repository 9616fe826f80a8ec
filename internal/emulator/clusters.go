package emulator

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/databricks/databricks-sdk-go/service/compute"
	"github.com/databricks/databricks-sdk-go/service/iam"
)

// cluster is an all-purpose cluster (Clusters API 2.1). Its state moves
// on its own from a transitional state (PENDING, RESTARTING, TERMINATING)
// to the next one once the task duration has passed since the request that
// started the transition; it is settled lazily when the cluster is read.
type cluster struct {
	details compute.ClusterDetails
	// next is the state the cluster reaches at until; "" when it stays.
	next  compute.State
	until time.Time
}

// settle applies a finished transition.
func (cl *cluster) settle(now time.Time) {
	if cl.next == "" || now.Before(cl.until) {
		return
	}
	d := &cl.details
	d.State, d.StateMessage = cl.next, ""
	switch cl.next {
	case compute.StateRunning:
		d.TerminatedTime, d.TerminationReason = 0, nil
		d.StartTime = millis(cl.until)
	case compute.StateTerminated:
		d.TerminatedTime = millis(cl.until)
		d.TerminationReason = &compute.TerminationReason{Code: compute.TerminationReasonCodeUserRequest, Type: compute.TerminationReasonTypeSuccess}
	}
	cl.next = ""
}

// transition puts the cluster in state now and in next once d has passed.
func (cl *cluster) transition(state, next compute.State, message string, now time.Time, d time.Duration) {
	cl.details.State, cl.details.StateMessage = state, message
	cl.next, cl.until = next, now.Add(d)
}

func (cl *cluster) view(now time.Time) compute.ClusterDetails {
	cl.settle(now)
	return cl.details
}

// errClusterMissing is what the Clusters API answers for an unknown id: a
// 400 INVALID_PARAMETER_VALUE that databricks-sdk-go turns into
// ErrResourceDoesNotExist for clusters/get (apierr's error overrides).
func errClusterMissing(id string) error {
	return errInvalidParameter("Cluster %s does not exist", id)
}

func errInvalidState(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "INVALID_STATE", format, args...)
}

func (ws *workspace) cluster(id string, now time.Time) (*cluster, error) {
	if id == "" {
		return nil, errInvalidParameter("cluster_id is required")
	}
	cl, ok := ws.clusters[id]
	if !ok {
		return nil, errClusterMissing(id)
	}
	cl.settle(now)
	return cl, nil
}

// clusterSpec checks a create or edit request's settings and returns them
// as the cluster's spec.
func clusterSpec(req any) (*compute.ClusterSpec, error) {
	var spec compute.ClusterSpec
	if err := convert(req, &spec); err != nil {
		return nil, err
	}
	if spec.SparkVersion == "" {
		return nil, errInvalidParameter("Missing required field: spark_version")
	}
	if spec.NumWorkers < 0 {
		return nil, errInvalidParameter("num_workers must be at least 0, got %d", spec.NumWorkers)
	}
	if a := spec.Autoscale; a != nil && (a.MinWorkers < 0 || a.MaxWorkers < a.MinWorkers) {
		return nil, errInvalidParameter("autoscale needs 0 <= min_workers <= max_workers, got %d and %d", a.MinWorkers, a.MaxWorkers)
	}
	return &spec, nil
}

// setSpec copies the settings of spec into the cluster's details: the
// top-level fields and the spec snapshot the get call reports.
func (cl *cluster) setSpec(spec *compute.ClusterSpec) error {
	keep := cl.details
	var d compute.ClusterDetails
	if err := convert(spec, &d); err != nil {
		return err
	}
	d.ClusterId, d.CreatorUserName, d.ClusterSource = keep.ClusterId, keep.CreatorUserName, keep.ClusterSource
	d.State, d.StateMessage, d.StartTime, d.TerminatedTime, d.TerminationReason = keep.State, keep.StateMessage, keep.StartTime, keep.TerminatedTime, keep.TerminationReason
	d.LastRestartedTime, d.SparkContextId, d.JdbcPort = keep.LastRestartedTime, keep.SparkContextId, keep.JdbcPort
	d.DefaultTags = map[string]string{"Vendor": "Databricks", "Creator": keep.CreatorUserName, "ClusterName": spec.ClusterName, "ClusterId": keep.ClusterId}
	if d.DataSecurityMode == "" {
		d.DataSecurityMode = compute.DataSecurityModeNone
	}
	s := *spec
	d.Spec = &s
	cl.details = d
	return nil
}

func handleClusterCreate(s *Server, c *call) (any, error) {
	var req compute.CreateCluster
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	spec, err := clusterSpec(req)
	if err != nil {
		return nil, err
	}
	n := c.ws.newID()
	id := fmt.Sprintf("%s-%06d-%08x", c.now.UTC().Format("0102"), n%1000000, uint32(stableID(fmt.Sprint(n))))
	cl := &cluster{details: compute.ClusterDetails{ClusterId: id, CreatorUserName: c.who.userName, ClusterSource: compute.ClusterSourceApi, SparkContextId: n, JdbcPort: 10000}}
	if err := cl.setSpec(spec); err != nil {
		return nil, err
	}
	cl.transition(compute.StatePending, compute.StateRunning, "Finding instances for new nodes, acquiring more instances if necessary", c.now, s.taskDurationLocked())
	c.ws.clusters[id] = cl
	owner := c.ws.owner()
	owner.PermissionLevel = iam.PermissionLevelCanManage
	a, err := newACL(permissionTypes["clusters"], id, []iam.AccessControlRequest{owner})
	if err != nil {
		return nil, err
	}
	c.ws.acls[aclKey("clusters", id)] = a
	return compute.CreateClusterResponse{ClusterId: id}, nil
}

func handleClusterGet(s *Server, c *call) (any, error) {
	cl, err := c.ws.cluster(c.query("cluster_id"), c.now)
	if err != nil {
		return nil, err
	}
	return cl.view(c.now), nil
}

func handleClusterList(s *Server, c *call) (any, error) {
	resp := compute.ListClustersResponse{}
	for _, id := range slices.Sorted(maps.Keys(c.ws.clusters)) {
		resp.Clusters = append(resp.Clusters, c.ws.clusters[id].view(c.now))
	}
	return resp, nil
}

// handleClusterEdit replaces the cluster's settings. Only a RUNNING or
// TERMINATED cluster can be edited; a running one restarts with them.
func handleClusterEdit(s *Server, c *call) (any, error) {
	var req compute.EditCluster
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	cl, err := c.ws.cluster(req.ClusterId, c.now)
	if err != nil {
		return nil, err
	}
	st := cl.details.State
	if st != compute.StateRunning && st != compute.StateTerminated {
		return nil, errInvalidState("Cluster %s is in unexpected state %s.", req.ClusterId, st)
	}
	spec, err := clusterSpec(req)
	if err != nil {
		return nil, err
	}
	if err := cl.setSpec(spec); err != nil {
		return nil, err
	}
	if st == compute.StateRunning {
		cl.details.LastRestartedTime = millis(c.now)
		cl.transition(compute.StateRestarting, compute.StateRunning, "Restarting the cluster with its new settings", c.now, s.taskDurationLocked())
	}
	return nil, nil
}

func handleClusterStart(s *Server, c *call) (any, error) {
	var req compute.StartCluster
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	cl, err := c.ws.cluster(req.ClusterId, c.now)
	if err != nil {
		return nil, err
	}
	if cl.details.State != compute.StateTerminated {
		return nil, errInvalidState("Cluster %s is in unexpected state %s.", req.ClusterId, cl.details.State)
	}
	cl.transition(compute.StatePending, compute.StateRunning, "Starting the cluster", c.now, s.taskDurationLocked())
	return nil, nil
}

// handleClusterDelete terminates the cluster; it stays listed, TERMINATED.
func handleClusterDelete(s *Server, c *call) (any, error) {
	var req compute.DeleteCluster
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	cl, err := c.ws.cluster(req.ClusterId, c.now)
	if err != nil {
		return nil, err
	}
	if st := cl.details.State; st != compute.StateTerminated && st != compute.StateTerminating {
		cl.transition(compute.StateTerminating, compute.StateTerminated, "Terminating the cluster", c.now, s.taskDurationLocked())
	}
	return nil, nil
}

// handleClusterPermanentDelete removes the cluster, terminating it first
// when it runs, with its permissions.
func handleClusterPermanentDelete(s *Server, c *call) (any, error) {
	var req compute.PermanentDeleteCluster
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if _, err := c.ws.cluster(req.ClusterId, c.now); err != nil {
		return nil, err
	}
	delete(c.ws.clusters, req.ClusterId)
	delete(c.ws.acls, aclKey("clusters", req.ClusterId))
	return nil, nil
}

// Clusters returns cluster id → cluster as the get call reports it now.
func (s *Server) Clusters(key string) map[string]compute.ClusterDetails {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]compute.ClusterDetails{}
	if ws := s.peekWorkspace(key); ws != nil {
		now := s.clock()
		for id, cl := range ws.clusters {
			out[id] = normalized(cl.view(now))
		}
	}
	return out
}

package contract

import "encoding/json"

// PutMetricDataRequest is the Input of a schedule whose universal target is
// PutMetricDataTarget: the PutMetricData request itself, in the API's field names
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
// The switch stack's heartbeat (template), `drctl route`'s request schedule (SDK) and the
// Route 53 model (reading the template) all use it, so they can never disagree on the metric
// Route 53 reads.
type PutMetricDataRequest struct {
	Namespace  string               `json:"Namespace"`
	MetricData []RoutingMetricDatum `json:"MetricData"`
}

// RoutingMetricDatum is one data point of a PutMetricDataRequest.
type RoutingMetricDatum struct {
	MetricName string                  `json:"MetricName"`
	Dimensions []RoutingDimensionValue `json:"Dimensions"`
	Value      float64                 `json:"Value"`
	Unit       string                  `json:"Unit"`
}

// RoutingDimensionValue is one dimension of a RoutingMetricDatum.
type RoutingDimensionValue struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// RoutingRequest publishes value (FailoverValueRequested or FailoverValueCleared) for
// environment.
func RoutingRequest(environment string, value float64) PutMetricDataRequest {
	return PutMetricDataRequest{Namespace: RoutingNamespace, MetricData: []RoutingMetricDatum{{
		MetricName: MetricFailoverRequested,
		Dimensions: []RoutingDimensionValue{{Name: RoutingDimension, Value: environment}},
		Value:      value, Unit: "Count"}}}
}

// RoutingRequestInput is RoutingRequest as a schedule target's Input.
func RoutingRequestInput(environment string, value float64) string {
	b, err := json.Marshal(RoutingRequest(environment, value))
	if err != nil {
		// Strings and a float: Marshal cannot fail on them.
		panic("contract: RoutingRequestInput: " + err.Error())
	}
	return string(b)
}

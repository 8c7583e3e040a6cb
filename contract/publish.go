package contract

import "encoding/json"

// RoutingRequestInput is the Input of a schedule whose universal target is PutMetricDataTarget:
// the PutMetricData request itself, in the API's own field names
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
// The switch stack's heartbeat (template) and `drctl route`'s request schedule (SDK) both
// build it here, so the two can never disagree on the metric Route 53 reads.
func RoutingRequestInput(environment string, value float64) string {
	type dimension struct {
		Name  string `json:"Name"`
		Value string `json:"Value"`
	}
	type datum struct {
		MetricName string      `json:"MetricName"`
		Dimensions []dimension `json:"Dimensions"`
		Value      float64     `json:"Value"`
		Unit       string      `json:"Unit"`
	}
	in := struct {
		Namespace  string  `json:"Namespace"`
		MetricData []datum `json:"MetricData"`
	}{
		Namespace: RoutingNamespace,
		MetricData: []datum{{MetricName: MetricFailoverRequested,
			Dimensions: []dimension{{Name: RoutingDimension, Value: environment}},
			Value:      value, Unit: "Count"}},
	}
	b, err := json.Marshal(in)
	if err != nil {
		// Only strings and a float: Marshal cannot fail on them.
		panic("contract: RoutingRequestInput: " + err.Error())
	}
	return string(b)
}

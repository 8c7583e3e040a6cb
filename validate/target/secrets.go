package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretsGetter is the one Secrets Manager call the validator makes; the SDK client satisfies it.
type SecretsGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput,
		optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ SecretsGetter = (*secretsmanager.Client)(nil)

// SecretsFactory returns a SecretsGetter for a region (the binary uses the SDK default chain).
type SecretsFactory func(ctx context.Context, region string) (SecretsGetter, error)

// AWSSecrets is the SecretsFactory of the binaries (the validator, the canary): Secrets
// Manager in region with the AWS SDK's default credentials.
func AWSSecrets(ctx context.Context, region string) (SecretsGetter, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, err
	}
	return secretsmanager.NewFromConfig(cfg), nil
}

// AWSCredentials is the AWS SDK's default credential chain in region, cached: what the
// binaries sign IAM auth tokens with.
func AWSCredentials(ctx context.Context, region string) (aws.CredentialsProvider, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, err
	}
	return aws.NewCredentialsCache(cfg.Credentials), nil
}

// FetchPassword reads a secret whose JSON has "username" and "password" (the stack's secret
// format). Errors never contain the secret's content.
func FetchPassword(ctx context.Context, api SecretsGetter, arn string) (user string, password Secret, err error) {
	out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
	if err != nil {
		return "", Secret{}, fmt.Errorf("read secret %q from Secrets Manager: %w", arn, err)
	}
	if out.SecretString == nil {
		return "", Secret{}, fmt.Errorf("read secret %q: it has no SecretString (binary secrets are not supported)", arn)
	}
	var v struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.Unmarshal([]byte(*out.SecretString), &v); err != nil {
		// Do not wrap err: a JSON syntax error can quote the secret's bytes.
		return "", Secret{}, fmt.Errorf(`read secret %q: want JSON {"username": ..., "password": ...}`, arn)
	}
	if v.Password == "" {
		return "", Secret{}, fmt.Errorf(`read secret %q: the JSON has no "password" field`, arn)
	}
	return v.Username, NewSecret(v.Password), nil
}

// regionFromARN returns the region field of an ARN, or "".
func regionFromARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[3]
}

var errNoCerts = errors.New("no PEM certificates found")

rule secretsmanager_secrets_listed_and_read
{
    meta:
        id = "0b504ced-1f87-44da-ba53-555df90ee39c"
        title = "Secrets Manager Secrets Listed and Read"
        description = "A principal reads secret values in batches (BatchGetSecretValue), or lists the secrets and reads secret values within an hour. Stolen credentials are used this way to harvest every secret of the account; applications usually read known secrets without listing them."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.credential-access, attack.t1555.006"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.credential-access.secretsmanager-retrieve-secrets/"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.credential-access.secretsmanager-batch-retrieve-secrets/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // secretsmanager:BatchGetSecretValue: Retrieves the contents of the encrypted fields SecretString or SecretBinary for up to 20 secrets.
        $batch_01 = "batch-get-secret-value" ascii wide
        // secretsmanager:BatchGetSecretValue: Retrieves the contents of the encrypted fields SecretString or SecretBinary for up to 20 secrets.
        $batch_02 = "batch_get_secret_value" ascii wide
        // secretsmanager:ListSecrets: Lists the secrets that are stored by Secrets Manager in the Amazon Web Services account, not including secrets that are marked for deletion.
        $list_01 = "list-secrets" ascii wide
        // secretsmanager:ListSecrets: Lists the secrets that are stored by Secrets Manager in the Amazon Web Services account, not including secrets that are marked for deletion.
        $list_02 = "list_secrets" ascii wide
        // secretsmanager:GetSecretValue: Retrieves the contents of the encrypted fields SecretString or SecretBinary from the specified version of a secret, whichever contains content.
        $read_01 = "get-secret-value" ascii wide
        // secretsmanager:GetSecretValue: Retrieves the contents of the encrypted fields SecretString or SecretBinary from the specified version of a secret, whichever contains content.
        $read_02 = "get_secret_value" ascii wide
    condition:
        any of ($batch_*) or (any of ($list_*) and any of ($read_*))
}

rule bedrock_invocation_logging_removed
{
    meta:
        id = "a8045cc3-d373-41c8-80b6-d34d17ffaa37"
        title = "Bedrock Model Invocation Logging Removed"
        description = "A principal deletes the Bedrock model invocation logging configuration, so that prompts and responses of later model calls are not recorded: a step seen in LLMjacking."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "high"
        tags = "attack.defense-evasion, attack.t1562.008"
        reference = "https://sysdig.com/blog/llmjacking-stolen-cloud-credentials-used-in-new-ai-attack/"
        reference = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // bedrock:DeleteModelInvocationLoggingConfiguration: Delete the invocation logging.
        $logging_off_01 = "delete-model-invocation-logging-configuration" ascii wide
        // bedrock:DeleteModelInvocationLoggingConfiguration: Delete the invocation logging.
        $logging_off_02 = "delete_model_invocation_logging_configuration" ascii wide
    condition:
        any of ($logging_off_*)
}

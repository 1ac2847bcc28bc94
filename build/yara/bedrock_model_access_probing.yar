rule bedrock_model_access_probing
{
    meta:
        id = "14b7f697-215d-4c10-b3b7-b54cedd642a7"
        title = "Bedrock Model Availability And Logging Probing"
        description = "A principal lists foundation models, checks whether a model is available to the account or reads the invocation logging configuration. LLMjacking tools run these checks with stolen keys to find usable models and whether prompts are logged."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "low"
        tags = "attack.discovery, attack.t1526"
        reference = "https://sysdig.com/blog/llmjacking-stolen-cloud-credentials-used-in-new-ai-attack/"
        reference = "https://permiso.io/blog/exploiting-hosted-models"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // bedrock:GetFoundationModel: Get details about a Amazon Bedrock foundation model.
        $probe_01 = "get-foundation-model" ascii wide
        // bedrock:GetFoundationModelAvailability: Get information about the Foundation model availability.
        $probe_02 = "get-foundation-model-availability" ascii wide
        // bedrock:GetModelInvocationLoggingConfiguration: Get the current configuration values for model invocation logging.
        $probe_03 = "get-model-invocation-logging-configuration" ascii wide
        // bedrock:GetUseCaseForModelAccess: Get usecase for model access.
        $probe_04 = "get-use-case-for-model-access" ascii wide
        // bedrock:GetFoundationModel: Get details about a Amazon Bedrock foundation model.
        $probe_05 = "get_foundation_model" ascii wide
        // bedrock:GetFoundationModelAvailability: Get information about the Foundation model availability.
        $probe_06 = "get_foundation_model_availability" ascii wide
        // bedrock:GetModelInvocationLoggingConfiguration: Get the current configuration values for model invocation logging.
        $probe_07 = "get_model_invocation_logging_configuration" ascii wide
        // bedrock:GetUseCaseForModelAccess: Get usecase for model access.
        $probe_08 = "get_use_case_for_model_access" ascii wide
        // bedrock:ListFoundationModelAgreementOffers: Get the offers associated with the specified model.
        $probe_09 = "list-foundation-model-agreement-offers" ascii wide
        // bedrock:ListFoundationModels: Lists Amazon Bedrock foundation models that you can use.
        $probe_10 = "list-foundation-models" ascii wide
        // bedrock:ListFoundationModelAgreementOffers: Get the offers associated with the specified model.
        $probe_11 = "list_foundation_model_agreement_offers" ascii wide
        // bedrock:ListFoundationModels: Lists Amazon Bedrock foundation models that you can use.
        $probe_12 = "list_foundation_models" ascii wide
    condition:
        any of ($probe_*)
}

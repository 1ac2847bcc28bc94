rule bedrock_invocation_after_probing
{
    meta:
        id = "22060139-d8eb-4c26-9021-12a570458e96"
        title = "Bedrock Model Invoked After Availability Probing"
        description = "One principal probes Bedrock model availability or logging and invokes models within an hour (InvokeModel, Converse and their streaming forms): the LLMjacking pattern of checking and then using stolen model access."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "high"
        tags = "attack.impact, attack.discovery, attack.t1496.004, attack.t1526"
        reference = "https://sysdig.com/blog/llmjacking-stolen-cloud-credentials-used-in-new-ai-attack/"
        reference = "https://permiso.io/blog/exploiting-hosted-models"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // header: must also be present
        $header_01 = "bedrock" ascii wide
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
        // bedrock-runtime:Converse: Sends messages to the specified Amazon Bedrock model.; bedrock-runtime:Converse: Sends messages to the specified Amazon Bedrock model.
        $invoke_01 = "converse" ascii wide
        // bedrock-runtime:ConverseStream: Sends messages to the specified Amazon Bedrock model and returns the response in a stream.
        $invoke_02 = "converse_stream" ascii wide
        // bedrock-runtime:InvokeModel: Invokes the specified Amazon Bedrock model to run inference using the prompt and inference parameters provided in the request body.
        $invoke_03 = "invoke-model" ascii wide
        // bedrock-runtime:InvokeModel: Invokes the specified Amazon Bedrock model to run inference using the prompt and inference parameters provided in the request body.
        $invoke_04 = "invoke_model" ascii wide
        // bedrock-runtime:InvokeModelWithResponseStream: Invoke the specified Amazon Bedrock model to run inference using the prompt and inference parameters provided in the request body.
        $invoke_05 = "invoke_model_with_response_stream" ascii wide
    condition:
        any of ($header_*) and (any of ($probe_*) and any of ($invoke_*))
}

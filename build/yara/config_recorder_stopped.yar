rule config_recorder_stopped
{
    meta:
        id = "a8dd0dc7-eb39-46fc-aeb2-618e67ff117e"
        title = "AWS Config Recorder Stopped Or Deleted"
        description = "A principal stops or deletes the AWS Config configuration recorder or deletes its delivery channel, so that resource changes are no longer recorded."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "high"
        tags = "attack.defense-evasion, attack.t1562.008"
        reference = "https://docs.aws.amazon.com/config/latest/developerguide/stop-start-recorder.html"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // config:DeleteConfigurationRecorder: Deletes the customer managed configuration recorder.
        $recorder_off_01 = "delete-configuration-recorder" ascii wide
        // config:DeleteDeliveryChannel: Deletes the delivery channel.
        $recorder_off_02 = "delete-delivery-channel" ascii wide
        // config:DeleteConfigurationRecorder: Deletes the customer managed configuration recorder.
        $recorder_off_03 = "delete_configuration_recorder" ascii wide
        // config:DeleteDeliveryChannel: Deletes the delivery channel.
        $recorder_off_04 = "delete_delivery_channel" ascii wide
        // config:StopConfigurationRecorder: Stops the customer managed configuration recorder.
        $recorder_off_05 = "stop-configuration-recorder" ascii wide
        // config:StopConfigurationRecorder: Stops the customer managed configuration recorder.
        $recorder_off_06 = "stop_configuration_recorder" ascii wide
    condition:
        any of ($recorder_off_*)
}

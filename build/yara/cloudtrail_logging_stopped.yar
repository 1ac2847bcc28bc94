rule cloudtrail_logging_stopped
{
    meta:
        id = "7ae8c087-4c3f-4217-adaf-f2cbc009ed75"
        title = "CloudTrail Trail Stopped, Deleted Or Updated"
        description = "A principal stops logging on a trail, deletes or updates a trail, or stops or deletes a CloudTrail Lake event data store. Attackers do this to blind the account owner before acting."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "high"
        tags = "attack.defense-evasion, attack.t1562.008"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.cloudtrail-stop/"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.cloudtrail-delete/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // cloudtrail:DeleteEventDataStore: CloudTrail Lake will no longer be open to new customers starting May 31, 2026.
        $trail_off_01 = "delete-event-data-store" ascii wide
        // cloudtrail:DeleteTrail: Deletes a trail.
        $trail_off_02 = "delete-trail" ascii wide
        // cloudtrail:DeleteEventDataStore: CloudTrail Lake will no longer be open to new customers starting May 31, 2026.
        $trail_off_03 = "delete_event_data_store" ascii wide
        // cloudtrail:DeleteTrail: Deletes a trail.
        $trail_off_04 = "delete_trail" ascii wide
        // cloudtrail:StopEventDataStoreIngestion: CloudTrail Lake will no longer be open to new customers starting May 31, 2026.
        $trail_off_05 = "stop-event-data-store-ingestion" ascii wide
        // cloudtrail:StopLogging: Suspends the recording of Amazon Web Services API calls and log file delivery for the specified trail.
        $trail_off_06 = "stop-logging" ascii wide
        // cloudtrail:StopEventDataStoreIngestion: CloudTrail Lake will no longer be open to new customers starting May 31, 2026.
        $trail_off_07 = "stop_event_data_store_ingestion" ascii wide
        // cloudtrail:StopLogging: Suspends the recording of Amazon Web Services API calls and log file delivery for the specified trail.
        $trail_off_08 = "stop_logging" ascii wide
        // cloudtrail:UpdateTrail: Updates trail settings that control what events you are logging, and how to handle log files.
        $trail_off_09 = "update-trail" ascii wide
        // cloudtrail:UpdateTrail: Updates trail settings that control what events you are logging, and how to handle log files.
        $trail_off_10 = "update_trail" ascii wide
    condition:
        any of ($trail_off_*)
}

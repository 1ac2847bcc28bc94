"""`capiche hunt`: run built rules over CloudTrail archives and source trees."""

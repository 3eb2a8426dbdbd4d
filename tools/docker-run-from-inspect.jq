# docker-run-from-inspect.jq: a container's inspect.json (from a bbackup backup, or `docker inspect
# NAME | jq '.[0]'`) as the `docker run` command that recreates it, shell-quoted:
#   jq -r -f tools/docker-run-from-inspect.jq containers/web/inspect.json
# Covers name, env, labels, mounts (volumes and binds), published ports, the network mode, the
# restart policy, user, working dir, entrypoint and command (`--entrypoint` takes one word: the
# entrypoint's other words go before the command, so the process's argv is the same). Env and labels include what the image
# already sets (harmless). Not covered: further networks (`docker network connect NET NAME`
# afterwards, see .NetworkSettings.Networks), tmpfs, devices, capabilities, resource limits,
# healthchecks, log driver: read them from .HostConfig and add the flags by hand.
["docker", "run", "-d", "--name", (.Name | ltrimstr("/"))]
+ (.Config.Env // [] | map("--env", .) )
+ (.Config.Labels // {} | to_entries | map("--label", "\(.key)=\(.value)"))
+ (.Mounts // [] | map("--mount", "type=\(.Type),src=\(.Name // .Source),dst=\(.Destination)\(if .RW then "" else ",readonly" end)"))
+ (.HostConfig.PortBindings // {} | to_entries | map(.key as $p | .value[] | "--publish", "\(.HostIp | if . == "" then "" else . + ":" end)\(.HostPort):\($p)"))
+ ["--network", .HostConfig.NetworkMode]
+ (.HostConfig.RestartPolicy | if (.Name // "") | IN("", "no") then [] else ["--restart", .Name + (if .MaximumRetryCount > 0 then ":\(.MaximumRetryCount)" else "" end)] end)
+ (if .Config.User != "" then ["--user", .Config.User] else [] end)
+ (if .Config.WorkingDir != "" then ["--workdir", .Config.WorkingDir] else [] end)
+ (if .Config.Entrypoint then ["--entrypoint", .Config.Entrypoint[0]] else [] end)
+ [.Config.Image] + (.Config.Entrypoint // [] | .[1:]) + (.Config.Cmd // [])
| @sh

# made by cloak-trace profile from vmlinuz

[kernel]
format=1
os=linux
release=6.1.0-57-amd64
version=#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)

[extra]
x=1

[offsets]
percpu.current_task=129920
task_struct.pid=2416
task_struct.tgid=2420
task_struct.comm=2976
task_struct.real_parent=2432
task_struct.mm=2272
task_struct.nsproxy=3064
nsproxy.uts_ns=8
uts_namespace.name=0
new_utsname.release=130
new_utsname.version=195

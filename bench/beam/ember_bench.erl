#!/usr/bin/env escript
%% -*- erlang -*-
%%! +P 5000000
%%
%% ember_bench: Erlang/OTP reference numbers for the Ember benchmark suite.
%%
%% Usage (one bench per VM, so every bench starts from a fresh runtime):
%%
%%   escript bench/beam/ember_bench.erl <bench> [--json] [--param N ...]
%%
%% Parameters can also be written as param=N. Without the #! line (which
%% erlc rejects) the file is a plain module that runs under erl:
%%
%%   tail -n +2 ember_bench.erl > <dir>/ember_bench.erl && erlc -o <dir> <dir>/ember_bench.erl
%%   erl +P 5000000 -noshell -pa <dir> -s ember_bench main <bench> [...] -s init stop
%%
%% (+P is needed there by hand: the benches with a million processes exceed
%% the default process limit of 262144; the escript sets it via %%! above).
%%
%% Output is one human-readable line per metric, or with --json one object
%% per line: {"bench":"pingpong","metric":"round_trip","value":612.3,"unit":"ns"}
%% Bench and metric names are shared with the Swift side so a compare
%% script can pair them up.

-module(ember_bench).
%% Compile the escript instead of interpreting it; interpreted code would
%% be an order of magnitude slower (and gen_server could not call back).
-mode(compile).
-behaviour(gen_server).

-export([main/0, main/1]).
%% gen_server callbacks (genserver-call and idle-agents).
-export([init/1, handle_call/3, handle_cast/2]).

%% {Name, Function, [{Param, Default}]}
benches() ->
    Schedulers = erlang:system_info(schedulers_online),
    [{"pingpong",       fun pingpong/1,       [{rounds, 1000000}]},
     {"skynet",         fun skynet/1,         [{size, 1000000}]},
     {"spawn-idle",     fun spawn_idle/1,     [{count, 1000000}]},
     {"ring",           fun ring/1,           [{processes, 10000}, {laps, 100}]},
     {"fan-in",         fun fan_in/1,         [{senders, 100}, {messages, 10000}]},
     {"selective",      fun selective/1,      [{queued, 1000}, {iterations, 100000}]},
     {"genserver-call", fun genserver_call/1, [{calls, 1000000}]},
     {"idle-agents",    fun idle_agents/1,    [{count, 1000000}]},
     {"pairs",          fun pairs/1,          [{pairs, 2 * Schedulers}, {rounds, 200000}]},
     {"fairness",       fun fairness/1,       [{rounds, 100000}, {spinners, 1}]}].

%%--------------------------------------------------------------------
%% Command line
%%--------------------------------------------------------------------

%% `erl -s ember_bench main` without arguments calls main/0.
main() ->
    main([]).

%% Arguments are strings from escript, atoms from `erl -s`.
main(Args) ->
    check_compiled(),
    Strs = [if is_atom(A) -> atom_to_list(A); true -> A end || A <- Args],
    case parse_args(Strs) of
        {ok, Fun, Cfg} ->
            Fun(Cfg);
        {error, Msg} ->
            usage(Msg),
            halt(2)
    end.

parse_args([]) ->
    {error, "missing bench name"};
parse_args([Name | Rest]) ->
    case lists:keyfind(Name, 1, benches()) of
        {Name, Fun, Defaults} ->
            Cfg0 = maps:from_list([{bench, Name}, {json, false} | Defaults]),
            case parse_opts(Rest, Defaults, Cfg0) of
                {ok, Cfg} -> {ok, Fun, Cfg};
                {error, _} = Error -> Error
            end;
        false ->
            {error, "unknown bench: " ++ Name}
    end.

parse_opts([], _Defaults, Cfg) ->
    {ok, Cfg};
parse_opts(["--json" | Rest], Defaults, Cfg) ->
    parse_opts(Rest, Defaults, Cfg#{json := true});
parse_opts(["--" ++ Key, Value | Rest], Defaults, Cfg) ->
    set_param(Key, Value, Rest, Defaults, Cfg);
parse_opts([Arg | Rest], Defaults, Cfg) ->
    case string:split(Arg, "=") of
        [Key, Value] -> set_param(Key, Value, Rest, Defaults, Cfg);
        _ -> {error, "unexpected argument: " ++ Arg}
    end.

set_param(Key, Value, Rest, Defaults, Cfg) ->
    case [P || {P, _} <- Defaults, atom_to_list(P) =:= Key] of
        [Param] ->
            case string:to_integer(Value) of
                {N, ""} when N > 0 -> parse_opts(Rest, Defaults, Cfg#{Param := N});
                _ -> {error, "--" ++ Key ++ " needs a positive integer, got: " ++ Value}
            end;
        [] ->
            {error, "unknown option for " ++ maps:get(bench, Cfg) ++ ": " ++ Key}
    end.

usage(Msg) ->
    Lines = [io_lib:format("  ~-15s ~s~n",
                           [Name, lists:join(" ", [io_lib:format("--~s ~b", [P, D])
                                                   || {P, D} <- Defaults])])
             || {Name, _, Defaults} <- benches()],
    io:format(standard_error,
              "ember_bench: ~s~n"
              "usage: escript ember_bench.erl <bench> [--json] [--param N ...]~n"
              "benches (with default parameters):~n~s",
              [Msg, Lines]).

%% Interpreted code (`escript -i`, or a lost -mode(compile)) would give
%% meaningless numbers, so refuse to run. An interpreted fun belongs to
%% erl_eval, a compiled one to this module.
check_compiled() ->
    case erlang:fun_info(fun() -> ok end, module) of
        {module, ?MODULE} ->
            ok;
        _ ->
            io:format(standard_error, "ember_bench: running interpreted; "
                      "the script must run compiled (-mode(compile))~n", []),
            halt(1)
    end.

%%--------------------------------------------------------------------
%% Reporting and measuring helpers
%%--------------------------------------------------------------------

report(#{bench := Bench, json := true}, Metric, Value, Unit, _Label) ->
    io:format("{\"bench\":\"~s\",\"metric\":\"~s\",\"value\":~s,\"unit\":\"~s\"}~n",
              [Bench, Metric, fmt(Value), Unit]);
report(#{bench := Bench}, _Metric, Value, _Unit, Label) ->
    io:format("~s: ~s ~s~n", [Bench, fmt(Value), Label]).

fmt(Value) ->
    float_to_list(float(Value), [{decimals, 1}]).

now_ns() ->
    erlang:monotonic_time(nanosecond).

%% Runs Fun and returns {ElapsedNanoseconds, Result}.
timed(Fun) ->
    T0 = now_ns(),
    Result = Fun(),
    {now_ns() - T0, Result}.

%% Garbage-collects every process, lets the runtime settle, and returns
%% {RSS, memory(total), memory(processes)} in bytes. RSS is what the Swift
%% side measures (it has no allocator of its own to ask), so the metrics
%% both sides report are RSS deltas; memory(total) and memory(processes)
%% are reported beside them as BEAM-only metrics.
memory_snapshot() ->
    lists:foreach(fun erlang:garbage_collect/1, processes()),
    timer:sleep(100),
    erlang:garbage_collect(),
    {rss_bytes(), erlang:memory(total), erlang:memory(processes)}.

%% Resident set size of this OS process in bytes (VmRSS in /proc/self/status,
%% the same number the Swift side reads from /proc/self/statm).
rss_bytes() ->
    {ok, Status} = file:read_file("/proc/self/status"),
    [_, Rest] = binary:split(Status, <<"VmRSS:">>),
    [Kb | _] = string:lexemes(Rest, " \t\n"),
    binary_to_integer(Kb) * 1024.

%% Waits until the normal run queues are empty, i.e. every process that
%% was spawned or woken up has run and is now blocked again.
wait_idle() ->
    case erlang:statistics(total_run_queue_lengths) of
        0 -> ok;
        _ -> timer:sleep(1), wait_idle()
    end.

%% Exits with an explanation instead of crashing with system_limit.
ensure_process_limit(Extra) ->
    Limit = erlang:system_info(process_limit),
    Needed = erlang:system_info(process_count) + Extra,
    if
        Needed > Limit ->
            io:format(standard_error, "ember_bench: needs ~b processes but the "
                      "limit is ~b; raise it with erl +P~n", [Needed, Limit]),
            halt(1);
        true ->
            ok
    end.

%% Percentile of a sorted tuple, nearest-rank method.
percentile(Sorted, P) ->
    element(max(1, ceil(P * tuple_size(Sorted))), Sorted).

%%--------------------------------------------------------------------
%% Teardown and the leak check (issue 4: "No bench leaks: the process
%% count and RSS return to their starting level after teardown"); the
%% Swift side's Teardown.swift
%%--------------------------------------------------------------------

%% Kills every process that is not a key of Baseline (a map) and waits
%% until the process count is down by N; returns the nanoseconds that took.
%% Finding them through processes() means the bench need not keep their
%% pids, which would count towards the memory per process.
kill_new(Baseline, N) ->
    New = [P || P <- processes(), not is_map_key(P, Baseline)],
    length(New) =:= N orelse error({unexpected_process_count, length(New), N}),
    Target = erlang:system_info(process_count) - N,
    {Ns, ok} = timed(fun() ->
                         lists:foreach(fun(P) -> exit(P, kill) end, New),
                         case wait_process_count(Target, 120000) =< Target of
                             true -> ok;
                             false -> error({teardown_timeout, Target})
                         end
                     end),
    Ns.

%% The process count once it is at most Target, or whatever it is after
%% TimeoutMs (polled every millisecond).
wait_process_count(Target, TimeoutMs) ->
    wait_process_count(Target, now_ns() + TimeoutMs * 1000000, now_ns()).

wait_process_count(Target, Deadline, Now) ->
    Count = erlang:system_info(process_count),
    if
        Count =< Target; Now > Deadline -> Count;
        true -> timer:sleep(1), wait_process_count(Target, Deadline, now_ns())
    end.

%% Live processes and resident bytes when a bench starts.
leak_baseline() ->
    lists:foreach(fun erlang:garbage_collect/1, processes()),
    {erlang:system_info(process_count), settled_rss()}.

%% Reports processes_after (live processes now minus at the start) and
%% rss_after_teardown (resident bytes now minus at the start).
report_leaks(Cfg, {Count0, Rss0}) ->
    Count1 = wait_process_count(Count0, 30000),
    lists:foreach(fun erlang:garbage_collect/1, processes()),
    Rss1 = settled_rss(),
    report(Cfg, processes_after, Count1 - Count0, processes,
           "processes left after teardown"),
    report(Cfg, rss_after_teardown, Rss1 - Rss0, bytes,
           "bytes RSS after teardown, over the start").

%% RSS once two readings 10 ms apart agree (or 2 s passed): freed memory
%% goes back to the OS a little after the processes are gone.
settled_rss() ->
    settled_rss(rss_bytes(), now_ns() + 2000000000).

settled_rss(Last, Deadline) ->
    timer:sleep(10),
    Current = rss_bytes(),
    case Current =:= Last orelse now_ns() > Deadline of
        true -> Current;
        false -> settled_rss(Current, Deadline)
    end.

%%--------------------------------------------------------------------
%% Ping-pong building blocks (pingpong, pairs, fairness)
%%--------------------------------------------------------------------

pong() ->
    receive
        {ping, From} -> From ! pong, pong();
        stop -> ok
    end.

ping_n(_Pong, 0) ->
    ok;
ping_n(Pong, N) ->
    Pong ! {ping, self()},
    receive pong -> ping_n(Pong, N - 1) end.

%% N round trips, timestamping after each one; returns the sorted
%% latencies (ns) as a tuple. Samples go into an atomics array so that
%% recording them allocates nothing and never triggers a GC mid-run.
ping_sampled(Pong, N) ->
    Samples = atomics:new(N, [{signed, false}]),
    ping_sampled(Pong, Samples, 1, N, now_ns()),
    list_to_tuple(lists:sort([atomics:get(Samples, I) || I <- lists:seq(1, N)])).

ping_sampled(_Pong, _Samples, I, N, _T0) when I > N ->
    ok;
ping_sampled(Pong, Samples, I, N, T0) ->
    Pong ! {ping, self()},
    receive pong -> ok end,
    T1 = now_ns(),
    atomics:put(Samples, I, T1 - T0),
    ping_sampled(Pong, Samples, I + 1, N, T1).

%%--------------------------------------------------------------------
%% pingpong
%%--------------------------------------------------------------------

%% Throughput and latency are measured in separate runs so that the
%% timestamping does not inflate round_trip.
pingpong(#{rounds := N} = Cfg) ->
    Leaks = leak_baseline(),
    Pong = spawn(fun pong/0),
    ping_n(Pong, min(N, 10000)),                    % warm-up
    {Ns, ok} = timed(fun() -> ping_n(Pong, N) end),
    Latencies = ping_sampled(Pong, N),
    Pong ! stop,
    report(Cfg, round_trip, Ns / N, ns, "ns/round-trip"),
    report(Cfg, p50, percentile(Latencies, 0.50), ns, "ns p50 round-trip latency"),
    report(Cfg, p99, percentile(Latencies, 0.99), ns, "ns p99 round-trip latency"),
    report(Cfg, max, element(N, Latencies), ns, "ns max round-trip latency"),
    report_leaks(Cfg, Leaks).

%%--------------------------------------------------------------------
%% skynet
%%--------------------------------------------------------------------

skynet(#{size := Size} = Cfg) ->
    Processes = skynet_processes(Size),
    ensure_process_limit(Processes),
    Leaks = leak_baseline(),
    Main = self(),
    {Ns, Sum} = timed(fun() ->
                          spawn(fun() -> skynet_node(Main, 0, Size) end),
                          receive S when is_integer(S) -> S end
                      end),
    Expected = Size * (Size - 1) div 2,
    Sum =:= Expected orelse error({wrong_sum, Sum, Expected}),
    report(Cfg, total, Ns / 1.0e6, ms, "ms total"),
    report(Cfg, per_process, Ns / Processes, ns, "ns/process"),
    report_leaks(Cfg, Leaks).

%% Number of processes in the tree: 1 + 10 + ... + Size.
skynet_processes(1) ->
    1;
skynet_processes(Size) when Size rem 10 =:= 0 ->
    Size + skynet_processes(Size div 10);
skynet_processes(Size) ->
    io:format(standard_error, "ember_bench: skynet --size must be a power of 10, "
              "got ~b~n", [Size]),
    halt(2).

%% Leaves send their number; inner nodes spawn 10 children, sum their
%% answers and send the sum up.
skynet_node(Parent, Num, 1) ->
    Parent ! Num;
skynet_node(Parent, Num, Size) ->
    Child = Size div 10,
    Self = self(),
    lists:foreach(fun(I) ->
                      spawn(fun() -> skynet_node(Self, Num + I * Child, Child) end)
                  end, lists:seq(0, 9)),
    Parent ! skynet_sum(10, 0).

skynet_sum(0, Acc) ->
    Acc;
skynet_sum(N, Acc) ->
    receive X -> skynet_sum(N - 1, Acc + X) end.

%%--------------------------------------------------------------------
%% spawn-idle
%%--------------------------------------------------------------------

%% The pids are not kept: a million-element list in the spawner would
%% count towards the memory per process. Teardown finds them through
%% processes() instead. The Swift side's spawnIdle does the same work.
spawn_idle(#{count := N} = Cfg) ->
    ensure_process_limit(N),
    Leaks = leak_baseline(),
    Baseline = maps:from_keys(processes(), true),
    {Rss0, Total0, Procs0} = memory_snapshot(),
    %% Timed until every new process has run and is parked in receive.
    {SpawnNs, ok} = timed(fun() -> spawn_idle_n(N), wait_idle() end),
    {Rss1, Total1, Procs1} = memory_snapshot(),
    report(Cfg, per_spawn, SpawnNs / N, ns, "ns/spawn"),
    report(Cfg, bytes_per_process, (Rss1 - Rss0) / N, bytes,
           "bytes/process (RSS delta)"),
    report(Cfg, vm_bytes_per_process, (Total1 - Total0) / N, bytes,
           "bytes/process (memory(total) delta)"),
    report(Cfg, proc_bytes_per_process, (Procs1 - Procs0) / N, bytes,
           "bytes/process (memory(processes) delta)"),
    TeardownNs = kill_new(Baseline, N),
    report(Cfg, teardown, TeardownNs / 1.0e6, ms, "ms teardown"),
    report_leaks(Cfg, Leaks).

spawn_idle_n(0) ->
    ok;
spawn_idle_n(N) ->
    spawn(fun idle/0),
    spawn_idle_n(N - 1).

idle() ->
    receive stop -> ok end.

%%--------------------------------------------------------------------
%% ring
%%--------------------------------------------------------------------

%% The token is a hop counter: each node forwards it decremented, and the
%% node that receives 0 tells the main process.
ring(#{processes := P, laps := L} = Cfg) ->
    ensure_process_limit(P),
    Leaks = leak_baseline(),
    Main = self(),
    Nodes = [spawn(fun() -> receive {next, Next} -> ring_node(Main, Next) end end)
             || _ <- lists:seq(1, P)],
    [First | _] = Nodes,
    lists:foreach(fun({Node, Next}) -> Node ! {next, Next} end,
                  lists:zip(Nodes, tl(Nodes) ++ [First])),
    First ! P,                                      % warm-up lap
    receive ring_done -> ok end,
    Hops = P * L,
    {Ns, ok} = timed(fun() -> First ! Hops, receive ring_done -> ok end end),
    lists:foreach(fun(Node) -> exit(Node, kill) end, Nodes),
    report(Cfg, per_hop, Ns / Hops, ns, "ns/hop"),
    report_leaks(Cfg, Leaks).

ring_node(Main, Next) ->
    receive
        0 -> Main ! ring_done, ring_node(Main, Next);
        K -> Next ! K - 1, ring_node(Main, Next)
    end.

%%--------------------------------------------------------------------
%% fan-in
%%--------------------------------------------------------------------

fan_in(#{senders := S, messages := M} = Cfg) ->
    Main = self(),
    Senders = [spawn(fun() -> receive go -> send_n(Main, M) end end)
               || _ <- lists:seq(1, S)],
    wait_idle(),                                    % all senders parked
    Total = S * M,
    {Ns, ok} = timed(fun() ->
                         lists:foreach(fun(P) -> P ! go end, Senders),
                         receive_n(Total)
                     end),
    report(Cfg, per_message, Ns / Total, ns, "ns/message"),
    report(Cfg, throughput, Total / (Ns / 1.0e9), 'msg/s', "msg/s").

send_n(_To, 0) ->
    ok;
send_n(To, N) ->
    To ! N,
    send_n(To, N - 1).

receive_n(0) ->
    ok;
receive_n(N) ->
    receive _ -> receive_n(N - 1) end.

%%--------------------------------------------------------------------
%% selective
%%--------------------------------------------------------------------

%% The main process keeps Q non-matching messages queued; each iteration
%% sends itself `match` (which lands behind them) and receives it
%% selectively, scanning past all Q. An atom pattern is used on purpose:
%% a fresh-reference pattern would let the compiler skip the old messages.
selective(#{queued := Q, iterations := It} = Cfg) ->
    lists:foreach(fun(I) -> self() ! {junk, I} end, lists:seq(1, Q)),
    selective_n(min(It, 100)),                      % warm-up
    {Ns, ok} = timed(fun() -> selective_n(It) end),
    {message_queue_len, Q} = process_info(self(), message_queue_len),
    report(Cfg, per_receive, Ns / It, ns, "ns/selective receive").

selective_n(0) ->
    ok;
selective_n(N) ->
    self() ! match,
    receive match -> selective_n(N - 1) end.

%%--------------------------------------------------------------------
%% genserver-call
%%--------------------------------------------------------------------

genserver_call(#{calls := N} = Cfg) ->
    {ok, Pid} = gen_server:start(?MODULE, 0, []),
    call_n(Pid, min(N, 10000)),                     % warm-up
    {Ns, ok} = timed(fun() -> call_n(Pid, N) end),
    gen_server:stop(Pid),
    report(Cfg, per_call, Ns / N, ns, "ns/call").

call_n(_Pid, 0) ->
    ok;
call_n(Pid, N) ->
    _ = gen_server:call(Pid, get),
    call_n(Pid, N - 1).

%% Minimal state-holding server, the Erlang counterpart of an Elixir Agent.
init(State) ->
    {ok, State}.

handle_call(get, _From, State) ->
    {reply, State, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

%%--------------------------------------------------------------------
%% idle-agents
%%--------------------------------------------------------------------

%% gen_server:start is synchronous (spawn + init + ack), like Agent.start.
%% Agents are not linked and their pids are not kept, so neither links
%% nor a pid list count towards the memory per agent; teardown finds them
%% through processes(), as in spawn-idle.
idle_agents(#{count := N} = Cfg) ->
    ensure_process_limit(N),
    Leaks = leak_baseline(),
    Baseline = maps:from_keys(processes(), true),
    {Rss0, Total0, _} = memory_snapshot(),
    {Ns, ok} = timed(fun() -> start_agents(N) end),
    {Rss1, Total1, _} = memory_snapshot(),
    report(Cfg, bytes_per_agent, (Rss1 - Rss0) / N, bytes, "bytes/agent (RSS delta)"),
    report(Cfg, vm_bytes_per_agent, (Total1 - Total0) / N, bytes,
           "bytes/agent (memory(total) delta)"),
    report(Cfg, per_spawn, Ns / N, ns, "ns/agent spawn"),
    TeardownNs = kill_new(Baseline, N),
    report(Cfg, teardown, TeardownNs / 1.0e6, ms, "ms teardown"),
    report_leaks(Cfg, Leaks).

start_agents(0) ->
    ok;
start_agents(N) ->
    {ok, _} = gen_server:start(?MODULE, 0, []),
    start_agents(N - 1).

%%--------------------------------------------------------------------
%% pairs
%%--------------------------------------------------------------------

pairs(#{pairs := P, rounds := R} = Cfg) ->
    Main = self(),
    Pingers = [begin
                   Pong = spawn(fun pong/0),
                   spawn(fun() ->
                             receive go -> ok end,
                             ping_n(Pong, R),
                             Pong ! stop,
                             Main ! pair_done
                         end)
               end || _ <- lists:seq(1, P)],
    wait_idle(),                                    % all pairs parked
    {Ns, ok} = timed(fun() ->
                         lists:foreach(fun(Pinger) -> Pinger ! go end, Pingers),
                         lists:foreach(fun(_) -> receive pair_done -> ok end end, Pingers)
                     end),
    Messages = P * R * 2,
    report(Cfg, throughput, Messages / (Ns / 1.0e9), 'msg/s', "msg/s aggregate").

%%--------------------------------------------------------------------
%% fairness
%%--------------------------------------------------------------------

%% One spinner by default (issue 4); --spinners adds more, so that on a
%% machine with few cores every scheduler has one. The Swift side's
%% Fairness.swift does the same work step for step.
fairness(#{rounds := N, spinners := S} = Cfg) ->
    Main = self(),
    Pong = spawn(fun pong/0),
    ping_n(Pong, min(N, 10000)),                    % warm-up
    Unloaded = percentile(ping_sampled(Pong, N), 0.99),
    Pairs = [begin
                 Sink = spawn(fun sink/0),
                 {spawn(fun() -> Main ! spinning, spin(Sink, 1) end), Sink}
             end || _ <- lists:seq(1, S)],
    lists:foreach(fun(_) -> receive spinning -> ok end end, Pairs),
    Loaded = percentile(ping_sampled(Pong, N), 0.99),
    lists:foreach(fun({Spinner, Sink}) -> Spinner ! stop, exit(Sink, kill) end, Pairs),
    Pong ! stop,
    report(Cfg, p99_unloaded, Unloaded, ns, "ns p99 round-trip latency, unloaded"),
    report(Cfg, p99_loaded, Loaded, ns, "ns p99 round-trip latency, CPU spinner running").

sink() ->
    receive _ -> sink() end.

%% Never waits: a few LCG steps of arithmetic, a send to the sink, a look
%% into its own mailbox for stop (receive ... after 0, which returns at
%% once), again. The arithmetic keeps the send rate below what the sink can
%% drain, so the sink's mailbox does not grow without bound. The BEAM would
%% preempt the spinner without the look; it is there because an Ember
%% process can only yield at a receive, so both sides take it.
spin(Sink, X) ->
    Y = lcg(16, X),
    Sink ! Y,
    receive
        stop -> ok
    after 0 ->
        spin(Sink, Y)
    end.

%% Marsaglia's 69069 LCG mod 2^32: every product stays below 2^49, a small
%% integer, so the spinner allocates no bignums (the Swift side's neither).
lcg(0, X) ->
    X;
lcg(K, X) ->
    lcg(K - 1, (X * 69069 + 1) band 16#ffffffff).

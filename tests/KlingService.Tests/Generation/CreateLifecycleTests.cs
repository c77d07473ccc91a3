using System.Net;
using System.Reflection;
using KlingService.Contracts;
using KlingService.Generation;
using KlingService.Kling;
using KlingService.Persistence;
using KlingService.Tests.Fixtures;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace KlingService.Tests.Generation;

/// <summary>
/// The launcher under the provider's and the database's bad days: a call that may have charged is
/// never repeated by default, a paid task id is never dropped, a refused key pauses instead of
/// failing everyone, and a failed repeat never answers for a running job.
/// </summary>
public sealed class CreateLifecycleTests
{
    public static TheoryData<string, Exception> AmbiguousFailures() => new()
    {
        { "a timeout after sending", new KlingApiException(KlingErrorKind.Transient, null, "The Kling API did not answer within 00:02:00.", delivery: CallDelivery.Unknown) },
        { "a gateway's 504", new KlingApiException(KlingErrorKind.Transient, HttpStatusCode.GatewayTimeout, "Kling answered 504: <html>") },
        { "a 502", new KlingApiException(KlingErrorKind.Transient, HttpStatusCode.BadGateway, "Kling answered 502: <html>") },
        { "a reset while reading", new KlingApiException(KlingErrorKind.Transient, null, "The Kling API could not be reached (ResponseEnded).", delivery: CallDelivery.Unknown) },
        { "an unreadable 200", new KlingApiException(KlingErrorKind.Transient, HttpStatusCode.OK, "Kling answered with a body that could not be read.", delivery: CallDelivery.Unknown) },
    };

    [Theory]
    [MemberData(nameof(AmbiguousFailures))]
    public async Task A_create_whose_outcome_is_unknown_ends_the_job_as_CreateOutcomeUnknown_and_is_never_repeated(string fault, Exception failure)
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.OnCreate = (_, _) => throw failure;
        var command = GenerationHarness.ValidCommand();

        await service.SendAsync(command);
        var failed = await service.PublishedAsync<VideoFailed>();
        await service.AdvanceAndSettleAsync(TimeSpan.FromMinutes(10));
        await service.AdvanceAndSettleAsync(TimeSpan.FromMinutes(10));

        Assert.True(failed.Reason == VideoFailureReason.CreateOutcomeUnknown, $"{fault}: {failed.Reason}");
        Assert.Equal(command.RequestId, failed.RequestId);
        Assert.Contains("may have been created and charged", failed.Message, StringComparison.Ordinal);
        Assert.Equal(1, service.Kling.CreateAttempts);
        Assert.Single(service.Published<VideoFailed>());
    }

    [Fact]
    public async Task A_200_without_a_task_id_is_an_unknown_outcome_too()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.OnCreate = (_, _) => Task.FromResult(new CreateTaskResponse(""));

        await service.SendAsync(GenerationHarness.ValidCommand());
        var failed = await service.PublishedAsync<VideoFailed>();

        Assert.Equal(VideoFailureReason.CreateOutcomeUnknown, failed.Reason);
        Assert.Empty(service.Published<VideoGenerationSubmitted>());
    }

    [Fact]
    public async Task With_RetryAmbiguousCreates_an_unknown_outcome_is_repeated_and_counted()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Generation:RetryAmbiguousCreates"] = "true",
            ["Generation:CreateRetryMinInterval"] = "00:00:02",
        });
        service.Kling.OnCreate = (_, attempt) => attempt == 1
            ? throw new KlingApiException(KlingErrorKind.Transient, HttpStatusCode.GatewayTimeout, "Kling answered 504")
            : Task.FromResult(new CreateTaskResponse("task-second"));

        await service.SendAsync(GenerationHarness.ValidCommand());
        var submitted = await service.AdvanceUntilPublishedAsync<VideoGenerationSubmitted>(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));

        Assert.Equal("task-second", submitted.TaskId);
        Assert.Equal(2, service.Kling.CreateAttempts);
        Assert.Empty(service.Published<VideoFailed>());
    }

    [Fact]
    public async Task A_refused_key_pauses_launching_probes_with_growing_pauses_and_resumes_without_failing_anyone()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Generation:CreateRetryMinInterval"] = "00:00:10",
            ["Generation:CreateRetryMaxInterval"] = "00:05:00",
        });
        var attemptsAt = new List<DateTimeOffset>();
        var health = new List<HealthStatus>();
        var access = service.Services.GetRequiredService<ProviderAccess>();
        service.Kling.OnCreate = async (_, attempt) =>
        {
            var status = (await access.CheckHealthAsync(new HealthCheckContext())).Status;
            lock (attemptsAt)
            {
                attemptsAt.Add(service.Time.GetUtcNow());
                health.Add(status);
            }

            return attempt <= 4
                ? throw new KlingApiException(KlingErrorKind.Unauthorized, HttpStatusCode.Unauthorized, "Kling answered 401: invalid API key")
                : new CreateTaskResponse($"task-{attempt}");
        };
        var commands = Enumerable.Range(0, 3).Select(i => GenerationHarness.ValidCommand() with { Prompt = $"job {i}" }).ToList();

        // The first job meets the refusal alone; the others arrive while launching is paused.
        await service.SendAsync(commands[0]);
        while (service.Kling.CreateAttempts == 0)
        {
            await Task.Delay(10);
        }

        await service.SendAsync(commands[1]);
        await service.SendAsync(commands[2]);
        for (var i = 0; i < 60 && service.Published<VideoGenerationSubmitted>().Count < 3; i++)
        {
            await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(5));
        }

        Assert.Equal(commands.Select(c => c.RequestId).Order(), service.Published<VideoGenerationSubmitted>().Select(s => s.RequestId).Order());
        Assert.Empty(service.Published<VideoFailed>());
        // One probe per pause, not one refused call per waiting job; the pauses grow.
        var pauses = attemptsAt.Take(5).Zip(attemptsAt.Skip(1), (a, b) => b - a).ToList();
        Assert.True(pauses[0] >= TimeSpan.FromSeconds(10) && pauses[1] >= TimeSpan.FromSeconds(20) && pauses[2] >= TimeSpan.FromSeconds(40),
            string.Join(", ", pauses));
        Assert.Equal([HealthStatus.Healthy, HealthStatus.Degraded, HealthStatus.Degraded, HealthStatus.Degraded, HealthStatus.Degraded], health.Take(5));
        Assert.Equal(HealthStatus.Healthy, (await access.CheckHealthAsync(new HealthCheckContext())).Status);
    }

    [Fact]
    public async Task After_the_unauthorized_grace_the_waiting_jobs_fail_as_Unauthorized()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Generation:UnauthorizedGrace"] = "00:02:00",
            ["Generation:CreateRetryMinInterval"] = "00:00:10",
            ["Generation:CreateRetryMaxInterval"] = "00:00:30",
        });
        service.Kling.OnCreate = (_, _) => throw new KlingApiException(KlingErrorKind.Unauthorized, HttpStatusCode.Forbidden, "Kling answered 403");
        var commands = Enumerable.Range(0, 4).Select(i => GenerationHarness.ValidCommand() with { Prompt = $"job {i}" }).ToList();

        foreach (var command in commands)
        {
            await service.SendAsync(command);
        }

        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(1));
        var failedEarly = service.Published<VideoFailed>().Count;
        for (var i = 0; i < 40 && service.Published<VideoFailed>().Count < commands.Count; i++)
        {
            await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(10));
        }

        Assert.Equal(0, failedEarly);
        var failed = service.Published<VideoFailed>();
        Assert.Equal(commands.Select(c => c.RequestId).Order(), failed.Select(f => f.RequestId).Order());
        Assert.All(failed, f => Assert.Equal(VideoFailureReason.Unauthorized, f.Reason));
        Assert.True(service.Kling.CreateAttempts < 15, $"{service.Kling.CreateAttempts} refused calls: the pause should hold the backlog back.");
        Assert.Empty(service.Kling.CreatedTasks);
    }

    [Fact]
    public async Task One_refusal_followed_by_a_long_run_of_429s_fails_no_one_as_Unauthorized()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Generation:UnauthorizedGrace"] = "00:02:00",
            ["Generation:CreateRetryMinInterval"] = "00:00:10",
            ["Generation:CreateRetryMaxInterval"] = "00:00:30",
        });
        var busyUntil = service.Time.GetUtcNow() + TimeSpan.FromMinutes(5);
        service.Kling.OnCreate = (_, attempt) =>
            attempt == 1 ? throw new KlingApiException(KlingErrorKind.Unauthorized, HttpStatusCode.Unauthorized, "Kling answered 401")
            : service.Time.GetUtcNow() < busyUntil
                ? throw new KlingApiException(KlingErrorKind.Transient, HttpStatusCode.TooManyRequests, "Kling answered 429", TimeSpan.FromSeconds(20))
                : Task.FromResult(new CreateTaskResponse($"task-{attempt}"));
        var command = GenerationHarness.ValidCommand();
        await service.SendAsync(command);
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(1));

        for (var i = 0; i < 60 && service.Published<VideoGenerationSubmitted>().Count == 0 && service.Published<VideoFailed>().Count == 0; i++)
        {
            await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(10));
        }

        Assert.Empty(service.Published<VideoFailed>().Select(f => $"{f.Reason}: {f.Message}"));
        Assert.Equal(command.RequestId, Assert.Single(service.Published<VideoGenerationSubmitted>()).RequestId);
        Assert.True(service.Kling.CreateAttempts > 5, $"{service.Kling.CreateAttempts} create attempts: the 429s should have run past the grace.");
    }

    [Fact]
    public async Task After_the_grace_a_key_that_works_again_is_noticed_and_new_jobs_are_created()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Generation:UnauthorizedGrace"] = "00:02:00",
            ["Generation:CreateRetryMinInterval"] = "00:00:10",
            ["Generation:CreateRetryMaxInterval"] = "00:00:30",
        });
        var keyWorks = false;
        service.Kling.OnCreate = (_, attempt) => Volatile.Read(ref keyWorks)
            ? Task.FromResult(new CreateTaskResponse($"task-{attempt}"))
            : throw new KlingApiException(KlingErrorKind.Unauthorized, HttpStatusCode.Unauthorized, "Kling answered 401");
        var early = GenerationHarness.ValidCommand() with { Prompt = "early" };
        await service.SendAsync(early);
        for (var i = 0; i < 40 && service.Published<VideoFailed>().Count == 0; i++)
        {
            await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(10));
        }

        // Past the grace, with the key still refused: a new job is not failed at once, it waits for a probe.
        var late = GenerationHarness.ValidCommand() with { Prompt = "late" };
        await service.SendAsync(late);
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(10));
        var lateFailedAtOnce = service.Published<VideoFailed>(f => f.RequestId == late.RequestId).Count;
        Volatile.Write(ref keyWorks, true);
        for (var i = 0; i < 12 && service.Published<VideoGenerationSubmitted>().Count == 0; i++)
        {
            await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(10));
        }

        Assert.Equal(VideoFailureReason.Unauthorized, Assert.Single(service.Published<VideoFailed>()).Reason);
        Assert.Equal(early.RequestId, service.Published<VideoFailed>()[0].RequestId);
        Assert.Equal(0, lateFailedAtOnce);
        Assert.Equal(late.RequestId, (await service.EventuallyPublishedAsync<VideoGenerationSubmitted>()).RequestId);
    }

    [Fact]
    public async Task A_Retry_After_of_a_day_pauses_launching_only_for_MaxRetryAfter()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?> { ["Generation:MaxRetryAfter"] = "00:02:00" });
        var attemptsAt = new List<DateTimeOffset>();
        service.Kling.OnCreate = (_, attempt) =>
        {
            attemptsAt.Add(service.Time.GetUtcNow());
            return attempt == 1
                ? throw new KlingApiException(KlingErrorKind.Transient, HttpStatusCode.TooManyRequests, "busy", TimeSpan.FromDays(1))
                : Task.FromResult(new CreateTaskResponse("task-after-pause"));
        };

        await service.SendAsync(GenerationHarness.ValidCommand());
        var submitted = await service.AdvanceUntilPublishedAsync<VideoGenerationSubmitted>(TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(10));

        Assert.Equal("task-after-pause", submitted.TaskId);
        Assert.InRange(attemptsAt[1] - attemptsAt[0], TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(11));
    }

    [Fact]
    public async Task A_paid_task_id_is_logged_at_once_and_recorded_through_a_long_database_outage_without_a_second_create()
    {
        var logs = new CapturedLogs();
        await using var service = await GenerationHarness.StartAsync(configure: services =>
        {
            services.AddLogging(builder => builder.AddProvider(logs));
            services.AddSingleton<InMemoryRequestLedger>();
            services.AddSingleton(provider => FlakyLedger.Over(provider.GetRequiredService<InMemoryRequestLedger>()));
        });
        var ledger = (FlakyLedger)(object)service.Services.GetRequiredService<IRequestLedger>();
        ledger.Outage = true;

        await service.SendAsync(GenerationHarness.ValidCommand());
        while (service.Kling.CreatedTasks.Count == 0)
        {
            await Task.Delay(10);
        }

        // Ten minutes without the database for the task's id, well past the claim's lease and the abandoned-claim grace.
        for (var i = 0; i < 60; i++)
        {
            await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(10));
        }

        var loggedBeforeRecorded = logs.Lines.Any(l => l.Contains("task-1", StringComparison.Ordinal));
        ledger.Outage = false;
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(10));
        var submitted = await service.EventuallyPublishedAsync<VideoGenerationSubmitted>();

        Assert.True(loggedBeforeRecorded, "The task id should be in the log as soon as the call returned.");
        Assert.Equal("task-1", submitted.TaskId);
        Assert.Equal(1, service.Kling.CreateAttempts);
        Assert.Empty(service.Published<VideoFailed>());
    }

    [Fact]
    public async Task A_create_call_that_outlives_its_lease_keeps_its_claim_and_is_never_made_twice()
    {
        await using var service = await GenerationHarness.StartAsync();
        var answer = new TaskCompletionSource<CreateTaskResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Kling.OnCreate = (_, _) => answer.Task;

        await service.SendAsync(GenerationHarness.ValidCommand());
        while (service.Kling.CreateAttempts == 0)
        {
            await Task.Delay(10);
        }

        // Four minutes of a slow answer: many leases long, past the abandoned-claim grace too.
        for (var i = 0; i < 24; i++)
        {
            await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(10));
        }

        answer.SetResult(new CreateTaskResponse("task-slow"));
        var submitted = await service.EventuallyPublishedAsync<VideoGenerationSubmitted>();

        Assert.Equal("task-slow", submitted.TaskId);
        Assert.Equal(1, service.Kling.CreateAttempts);
        Assert.Empty(service.Published<VideoFailed>());
    }

    [Fact]
    public async Task Provider_words_that_carry_the_key_are_scrubbed_before_they_reach_the_client()
    {
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.ScriptStatuses(id => FakeKlingApi.Failed(id, "upstream said: Authorization: Bearer test-key was not allowed"));

        await service.SendAsync(GenerationHarness.ValidCommand());
        var failed = await service.AdvanceUntilPublishedAsync<VideoFailed>(TimeSpan.FromSeconds(5));

        Assert.DoesNotContain("test-key", failed.Message, StringComparison.Ordinal);
        Assert.Contains("[redacted]", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_repeat_of_a_running_job_is_not_answered_but_a_waiting_request_is_answered_once()
    {
        await using var service = await GenerationHarness.StartAsync(new Dictionary<string, string?> { ["Kling:MaxConcurrentTasks"] = "1" });
        var running = GenerationHarness.ValidCommand() with { Prompt = "running" };
        var waiting = GenerationHarness.ValidCommand() with { Prompt = "waiting" };
        await service.SendAsync(running);
        await service.PublishedAsync<VideoGenerationSubmitted>(s => s.RequestId == running.RequestId);
        await service.SendAsync(waiting);
        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(1));

        await PublishFaultAsync(service, running);
        await PublishFaultAsync(service, waiting);
        var answered = await service.EventuallyPublishedAsync<VideoFailed>(f => f.RequestId == waiting.RequestId);
        for (var i = 0; i < 500 && service.Harness.Consumed.Select<Fault<GenerateVideo>>().Count() < 2; i++)
        {
            await Task.Delay(20);
        }

        await service.AdvanceAndSettleAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(VideoFailureReason.InternalError, answered.Reason);
        Assert.Empty(service.Published<VideoFailed>(f => f.RequestId == running.RequestId));
        // The running job still holds the account's only slot: nothing else was started.
        Assert.Single(service.Kling.CreatedTasks);
    }

    [Theory]
    [InlineData(true, VideoFailureReason.ProviderUnavailable)]
    [InlineData(false, VideoFailureReason.InternalError)]
    public async Task A_command_given_up_is_answered_with_a_stable_sentence_and_a_trace_never_the_exception_s_text(bool database, VideoFailureReason reason)
    {
        const string Text = "Failed to connect to db-primary.internal:5432 as kling_admin";
        await using var service = await GenerationHarness.StartAsync();
        service.Kling.OnCreate = async (_, _) => await new TaskCompletionSource<CreateTaskResponse>().Task;
        var command = GenerationHarness.ValidCommand();

        await PublishFaultAsync(service, command, database ? new Npgsql.NpgsqlException(Text) : new InvalidOperationException(Text));
        var answered = await service.EventuallyPublishedAsync<VideoFailed>(f => f.RequestId == command.RequestId);

        Assert.Equal(reason, answered.Reason);
        Assert.DoesNotContain("db-primary", answered.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("kling_admin", answered.Message, StringComparison.Ordinal);
        Assert.Matches(@"\(trace [0-9a-f]{32}\)\.$", answered.Message);
    }

    private static Task PublishFaultAsync(GenerationHarness service, GenerateVideo command, Exception? exception = null) =>
        service.Harness.Bus.Publish<Fault<GenerateVideo>>(new
        {
            FaultId = NewId.NextGuid(),
            FaultedMessageId = NewId.NextGuid(),
            Timestamp = DateTime.UtcNow,
            Exceptions = exception is null ? Array.Empty<ExceptionInfo>() : new ExceptionInfo[] { new MassTransit.Events.FaultExceptionInfo(exception) },
            FaultMessageTypes = new[] { MessageUrn.ForTypeString<GenerateVideo>() },
            Message = command,
        });

    /// <summary>The embedded ledger behind a switch that makes the database "away" for the writes a create attempt needs.</summary>
    public class FlakyLedger : DispatchProxy
    {
        private IRequestLedger _inner = null!;
        private volatile bool _outage;

        public bool Outage
        {
            get => _outage;
            set => _outage = value;
        }

        public static IRequestLedger Over(IRequestLedger inner)
        {
            var ledger = Create<IRequestLedger, FlakyLedger>();
            ((FlakyLedger)(object)ledger)._inner = inner;
            return ledger;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (_outage && targetMethod?.Name is nameof(IRequestLedger.RenewAsync) or nameof(IRequestLedger.RecordTaskAsync))
            {
                throw new TimeoutException("database away");
            }

            try
            {
                return targetMethod!.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
    }
}

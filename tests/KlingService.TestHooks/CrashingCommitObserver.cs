using System.Diagnostics;
using KlingService.Outbox;

namespace KlingService.TestHooks;

/// <summary>
/// Kills the process at the commit its environment names, before anything is dispatched: with
/// <c>KLING_TEST_CRASH_AFTER_SAGA_FINAL_COMMIT=1</c> right after a saga's final commit, with
/// <c>KLING_TEST_CRASH_AFTER_TASK_RECORDED=1</c> right after the launcher recorded a task. These are the crash windows the
/// outbox closes.
/// </summary>
public sealed class CrashingCommitObserver(bool afterSagaFinalCommit, bool afterTaskRecorded) : ICommitObserver
{
    public const string CrashAfterSagaFinalCommit = "KLING_TEST_CRASH_AFTER_SAGA_FINAL_COMMIT";

    public const string CrashAfterTaskRecorded = "KLING_TEST_CRASH_AFTER_TASK_RECORDED";

    public static CrashingCommitObserver FromEnvironment() => new(
        Environment.GetEnvironmentVariable(CrashAfterSagaFinalCommit) == "1",
        Environment.GetEnvironmentVariable(CrashAfterTaskRecorded) == "1");

    public void SagaFinalCommitted()
    {
        if (afterSagaFinalCommit)
        {
            Die($"{CrashAfterSagaFinalCommit}: killing the process after a saga's final commit.");
        }
    }

    public void TaskRecorded()
    {
        if (afterTaskRecorded)
        {
            Die($"{CrashAfterTaskRecorded}: killing the process after a task was recorded.");
        }
    }

    private static void Die(string why)
    {
        Console.Error.WriteLine(why);
        Process.GetCurrentProcess().Kill();
    }
}

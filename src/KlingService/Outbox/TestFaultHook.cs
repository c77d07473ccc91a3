using System.Diagnostics;

namespace KlingService.Outbox;

/// <summary>
/// TEST ONLY. With <c>KLING_TEST_CRASH_AFTER_SAGA_FINAL_COMMIT=1</c> in the environment the process
/// kills itself right after a saga's final commit (the one that deletes the ended job), and with
/// <c>KLING_TEST_CRASH_AFTER_TASK_RECORDED=1</c> right after the launcher recorded a task, each time
/// before anything is dispatched: the crash windows the outbox closes. Never set them in production.
/// </summary>
public static class TestFaultHook
{
    public const string CrashAfterSagaFinalCommit = "KLING_TEST_CRASH_AFTER_SAGA_FINAL_COMMIT";

    public const string CrashAfterTaskRecorded = "KLING_TEST_CRASH_AFTER_TASK_RECORDED";

    private static readonly bool Armed = Environment.GetEnvironmentVariable(CrashAfterSagaFinalCommit) == "1";

    private static readonly bool ArmedForTasks = Environment.GetEnvironmentVariable(CrashAfterTaskRecorded) == "1";

    public static void AfterSagaFinalCommit()
    {
        if (Armed)
        {
            Console.Error.WriteLine($"{CrashAfterSagaFinalCommit}: killing the process after a saga's final commit.");
            Process.GetCurrentProcess().Kill();
        }
    }

    public static void AfterTaskRecorded()
    {
        if (ArmedForTasks)
        {
            Console.Error.WriteLine($"{CrashAfterTaskRecorded}: killing the process after a task was recorded.");
            Process.GetCurrentProcess().Kill();
        }
    }
}

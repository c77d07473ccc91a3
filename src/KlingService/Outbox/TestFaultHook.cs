using System.Diagnostics;

namespace KlingService.Outbox;

/// <summary>
/// TEST ONLY. With <c>KLING_TEST_CRASH_AFTER_SAGA_FINAL_COMMIT=1</c> in the environment the process
/// kills itself right after a saga's final commit (the one that deletes the ended job) and before
/// anything is dispatched: the crash window the outbox closes. Never set it in production.
/// </summary>
public static class TestFaultHook
{
    public const string CrashAfterSagaFinalCommit = "KLING_TEST_CRASH_AFTER_SAGA_FINAL_COMMIT";

    private static readonly bool Armed = Environment.GetEnvironmentVariable(CrashAfterSagaFinalCommit) == "1";

    public static void AfterSagaFinalCommit()
    {
        if (Armed)
        {
            Console.Error.WriteLine($"{CrashAfterSagaFinalCommit}: killing the process after a saga's final commit.");
            Process.GetCurrentProcess().Kill();
        }
    }
}

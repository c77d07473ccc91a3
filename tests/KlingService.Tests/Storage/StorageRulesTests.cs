using System.Net.Sockets;
using KlingService.Storage;

namespace KlingService.Tests.Storage;

public sealed class StorageRulesTests
{
    public static TheoryData<Exception, StoreFailureReason, bool> Failures => new()
    {
        { new VideoStoreException(StoreFailureReason.Truncated, "half"), StoreFailureReason.Truncated, true },
        { new VideoStoreException(StoreFailureReason.NotMp4, "a sign-in page"), StoreFailureReason.NotMp4, true },
        { new VideoStoreException(StoreFailureReason.DownloadFailed, "503"), StoreFailureReason.DownloadFailed, true },
        { new VideoStoreException(StoreFailureReason.TooLarge, "600 MB"), StoreFailureReason.TooLarge, false },
        { new VideoStoreException(StoreFailureReason.UrlExpired, "403"), StoreFailureReason.UrlExpired, false },
        { new HttpRequestException("refused", new SocketException((int)SocketError.ConnectionRefused)), StoreFailureReason.DownloadFailed, true },
        { new TaskCanceledException("the try's bound"), StoreFailureReason.TimedOut, true },
        { new TimeoutException(), StoreFailureReason.TimedOut, true },
        { new InvalidOperationException("the bucket said no"), StoreFailureReason.StoreFailed, true },
        { new IOException("disk full"), StoreFailureReason.StoreFailed, true },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void A_failed_copy_is_tried_again_unless_it_can_never_succeed(Exception failure, StoreFailureReason reason, bool retryable)
    {
        Assert.Equal(reason, StoreFailures.Classify(failure));
        Assert.Equal(retryable, StoreFailures.IsRetryable(StoreFailures.Classify(failure)));
    }

    [Theory]
    [InlineData("sim-0a1b2c", "sim-0a1b2c.mp4")]
    [InlineData("8f0e1d2c_TASK.v2", "8f0e1d2c_TASK.v2.mp4")]
    public void A_task_id_becomes_a_key_that_stays_inside_the_store(string taskId, string key) =>
        Assert.Equal(key, StorageKeys.For(taskId));

    [Theory]
    [InlineData("../../etc/passwd", "_._.._etc_passwd-")]
    [InlineData(".hidden", "_hidden-")]
    [InlineData("a/b\\c d", "a_b_c_d-")]
    public void A_task_id_with_unsafe_characters_is_made_safe_and_told_apart_by_its_hash(string taskId, string prefix)
    {
        var key = StorageKeys.For(taskId);
        Assert.StartsWith(prefix, key, StringComparison.Ordinal);
        Assert.Matches("^[A-Za-z0-9_.-]+-[0-9a-f]{12}\\.mp4$", key);
        // Ids that read alike once made safe keep keys of their own.
        var lookalike = prefix.TrimEnd('-');
        Assert.Equal($"{lookalike}.mp4", StorageKeys.For(lookalike));
        Assert.NotEqual(key, StorageKeys.For(lookalike));
    }
}

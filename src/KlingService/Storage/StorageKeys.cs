namespace KlingService.Storage;

/// <summary>The key a task's video is stored under.</summary>
public static class StorageKeys
{
    /// <summary>
    /// <c>{task_id}.mp4</c>. The id comes from the provider: any character outside letters, digits, '-', '_' and '.'
    /// becomes '_', and a leading '.' too, so no id can climb out of the store's directory or prefix; such an id also
    /// gets a hash of itself, so two ids that read alike never share a key (and a client never gets another's video).
    /// </summary>
    public static string For(string taskId)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        var safe = string.Create(taskId.Length, taskId, static (span, id) =>
        {
            for (var i = 0; i < id.Length; i++)
            {
                var c = id[i];
                span[i] = char.IsAsciiLetterOrDigit(c) || c is '-' or '_' || (c == '.' && i > 0) ? c : '_';
            }
        });
        return safe == taskId
            ? $"{safe}.mp4"
            : $"{safe}-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(taskId)))[..12]}.mp4";
    }
}

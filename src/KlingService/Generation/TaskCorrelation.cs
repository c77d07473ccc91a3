using System.Security.Cryptography;
using System.Text;

namespace KlingService.Generation;

/// <summary>
/// The saga's CorrelationId for a Kling task: a name-based (version 5) UUID of the task_id, so every
/// message about a task finds its saga by key and two sagas for one task cannot both be inserted.
/// </summary>
public static class TaskCorrelation
{
    private static readonly Guid Namespace = new("7c0a3a62-4c4b-4b8e-9b87-2d6f3c1f5a10");

    public static Guid FromTaskId(string taskId)
    {
        Span<byte> name = stackalloc byte[16 + Encoding.UTF8.GetByteCount(taskId)];
        Namespace.TryWriteBytes(name, bigEndian: true, out _);
        Encoding.UTF8.GetBytes(taskId, name[16..]);

        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(name, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}

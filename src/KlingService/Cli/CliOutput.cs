using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace KlingService.Cli;

/// <summary>
/// Where a command's results go: a live display for a person at a terminal, or one JSON object per
/// line for a script (<c>--json</c>, or whenever stdout is redirected), in the contract's own shape.
/// </summary>
public sealed class CliOutput(bool json)
{
    /// <summary>The contract's wire shape: camelCase members, enums by name.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        // Lines for scripts and terminals, never embedded in HTML: "+00:00", not "\u002B00:00".
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public bool Json { get; } = json;

    /// <summary>One line: <c>{"event":"VideoReady", ...the message's members}</c>.</summary>
    public void Event(string name, object message)
    {
        var members = JsonSerializer.SerializeToNode(message, message.GetType(), JsonOptions)!.AsObject();
        var line = new JsonObject { ["event"] = name };
        foreach (var (key, value) in members.ToList())
        {
            members.Remove(key);
            line[key] = value;
        }

        Console.Out.WriteLine(line.ToJsonString(JsonOptions));
        Console.Out.Flush();
    }

    /// <summary>Progress notes meant for a person (e.g. "watching ..."): stderr, so stdout stays parseable.</summary>
    public static void Note(string text) => Console.Error.WriteLine(text);
}

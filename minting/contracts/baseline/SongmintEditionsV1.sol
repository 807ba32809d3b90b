// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {ERC1155Supply} from "@openzeppelin/contracts/token/ERC1155/extensions/ERC1155Supply.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title SongmintEditionsV1 (frozen copy of the pre-sales contract, the gas benchmark's "today"): capped ERC-1155 editions with cheap, content-addressed metadata URIs.
/// @notice Each token id is created once with an edition cap and minted up to that cap, in one
/// transaction or several. Metadata URIs cost one storage slot per token: the slot packs the cap,
/// a flag byte and the index of a URI prefix stored once per release (`ipfs://<dirCID>/metadata/`),
/// and `uri(id)` is `prefix + <id as 64 lowercase hex digits> + ".json"`, the ERC-1155 `{id}` rule
/// spelled out. Prefix 0 is the classic base URI with a literal `{id}` clients substitute; any
/// token can also carry a full per-token URI override. Metadata of a token can be frozen for good.
/// Royalties follow ERC-2981 (a default plus per-token overrides); `contractURI()` follows ERC-7572.
contract SongmintEditionsV1 is ERC1155Supply, ERC2981, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// One storage slot per token: everything `uri`, `mint` and `exists` need.
    struct Token {
        uint64 cap; // edition cap; 0 = never created
        uint32 prefix; // 0 = base URI with `{id}`; n >= 1 = _prefixes[n]
        bool frozen; // metadata frozen for good
        bool hasOverride; // a full per-token URI lives in _overrides[id]
    }

    string public name;
    string public symbol;
    string private _contractURI;
    uint32 private _prefixCount;
    mapping(uint32 index => string prefix) private _prefixes;
    mapping(bytes32 prefixHash => uint32 index) private _prefixIndex;
    mapping(uint256 id => Token) private _tokens;
    mapping(uint256 id => string uri) private _overrides;

    // ---- errors: decoded into plain sentences by minting.chain ------------------------------
    error TokenAlreadyExists(uint256 id);
    error TokenDoesNotExist(uint256 id);
    error InvalidEditionCap(uint256 id, uint256 cap);
    error EditionCapExceeded(uint256 id, uint256 cap, uint256 supplyAfter);
    error UnknownUriPrefix(uint32 index);
    error EmptyUri();
    error MetadataIsFrozen(uint256 id);
    error LengthMismatch(uint256 ids, uint256 amounts, uint256 caps);

    // ---- events -----------------------------------------------------------------------------
    /// ERC-7572: the contract-level metadata changed.
    event ContractURIUpdated();
    /// A release's URI prefix was registered under `index`.
    event UriPrefixAdded(uint32 indexed index, string prefix);
    /// OpenSea's convention: the token's metadata will never change again.
    event PermanentURI(string value, uint256 indexed id);
    /// ERC-4906: the metadata of a range of tokens changed (emitted when the base URI changes).
    event BatchMetadataUpdate(uint256 fromTokenId, uint256 toTokenId);

    constructor(
        string memory name_,
        string memory symbol_,
        string memory baseURI_,
        string memory contractURI_,
        address admin,
        address royaltyReceiver,
        uint96 royaltyBps
    ) ERC1155(baseURI_) {
        name = name_;
        symbol = symbol_;
        _contractURI = contractURI_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
        if (royaltyReceiver != address(0)) _setDefaultRoyalty(royaltyReceiver, royaltyBps);
    }

    // ---- creating and minting ---------------------------------------------------------------

    /// @notice Register a URI prefix (e.g. `ipfs://<dirCID>/metadata/`) once; returns its index.
    /// Idempotent: a prefix registered before returns its existing index and emits nothing.
    function addUriPrefix(string calldata prefix) external onlyRole(MINTER_ROLE) returns (uint32 index) {
        if (bytes(prefix).length == 0) revert EmptyUri();
        bytes32 h = keccak256(bytes(prefix));
        index = _prefixIndex[h];
        if (index != 0) return index;
        index = ++_prefixCount;
        _prefixes[index] = prefix;
        _prefixIndex[h] = index;
        emit UriPrefixAdded(index, prefix);
    }

    /// @notice Create token `id` with edition cap `cap` under URI prefix `prefix` and mint `amount`.
    function create(address to, uint256 id, uint256 amount, uint64 cap, uint32 prefix, bytes calldata data)
        external
        onlyRole(MINTER_ROLE)
    {
        _checkPrefix(prefix);
        _createOne(id, cap, prefix);
        emit URI(_prefixedURI(_prefixOf(prefix), prefix, id), id);
        _mint(to, id, amount, data);
    }

    /// @notice Create several tokens under one URI prefix and mint them in one transaction.
    function createBatch(
        address to,
        uint256[] calldata ids,
        uint256[] calldata amounts,
        uint64[] calldata caps,
        uint32 prefix,
        bytes calldata data
    ) external onlyRole(MINTER_ROLE) {
        uint256 n = ids.length;
        if (amounts.length != n || caps.length != n) revert LengthMismatch(n, amounts.length, caps.length);
        _checkPrefix(prefix);
        string memory p = _prefixOf(prefix); // read the prefix from storage once per batch
        for (uint256 i; i < n; ++i) {
            uint256 id = ids[i];
            _createOne(id, caps[i], prefix);
            emit URI(_prefixedURI(p, prefix, id), id);
        }
        _mintBatch(to, ids, amounts, data);
    }

    /// @notice Mint more editions of an existing token, up to its cap.
    function mint(address to, uint256 id, uint256 amount, bytes calldata data) external onlyRole(MINTER_ROLE) {
        if (_tokens[id].cap == 0) revert TokenDoesNotExist(id);
        _mint(to, id, amount, data);
    }

    /// @notice Mint more editions of several existing tokens, each up to its cap.
    function mintBatch(address to, uint256[] calldata ids, uint256[] calldata amounts, bytes calldata data)
        external
        onlyRole(MINTER_ROLE)
    {
        if (amounts.length != ids.length) revert LengthMismatch(ids.length, amounts.length, ids.length);
        for (uint256 i; i < ids.length; ++i) {
            if (_tokens[ids[i]].cap == 0) revert TokenDoesNotExist(ids[i]);
        }
        _mintBatch(to, ids, amounts, data);
    }

    // ---- metadata -----------------------------------------------------------------------------

    /// @notice The token's metadata URI (ERC-1155 metadata extension).
    function uri(uint256 id) public view override returns (string memory) {
        Token memory t = _tokens[id];
        if (t.hasOverride) return _overrides[id];
        return _prefixedURI(_prefixOf(t.prefix), t.prefix, id);
    }

    /// @notice ERC-7572 contract-level metadata.
    function contractURI() external view returns (string memory) {
        return _contractURI;
    }

    function setContractURI(string calldata newURI) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _contractURI = newURI;
        emit ContractURIUpdated();
    }

    /// @notice Change the `{id}` base URI that tokens created under prefix 0 use.
    function setBaseURI(string calldata newURI) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setURI(newURI);
        emit BatchMetadataUpdate(0, type(uint256).max);
    }

    /// @notice Give token `id` a full URI of its own (overrides any prefix).
    function setTokenURI(uint256 id, string calldata newURI) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Token storage t = _mutable(id);
        if (bytes(newURI).length == 0) revert EmptyUri();
        _overrides[id] = newURI;
        t.hasOverride = true;
        emit URI(newURI, id);
    }

    /// @notice Move token `id` to another registered prefix (dropping any per-token override).
    function setTokenUriPrefix(uint256 id, uint32 prefix) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Token storage t = _mutable(id);
        _checkPrefix(prefix);
        t.prefix = prefix;
        if (t.hasOverride) {
            t.hasOverride = false;
            delete _overrides[id];
        }
        emit URI(uri(id), id);
    }

    /// @notice Freeze token `id`'s metadata URI for good. A token on the mutable `{id}` base URI is
    /// pinned to the base URI of today first, so that a later `setBaseURI` cannot change it.
    function freezeMetadata(uint256 id) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Token storage t = _mutable(id);
        if (t.prefix == 0 && !t.hasOverride) {
            _overrides[id] = super.uri(id);
            t.hasOverride = true;
        }
        t.frozen = true;
        emit PermanentURI(uri(id), id);
    }

    /// @notice Everything about token `id` in one call.
    function tokenInfo(uint256 id)
        external
        view
        returns (uint64 cap, uint32 prefix, bool frozen, bool hasOverride, uint256 supply)
    {
        Token memory t = _tokens[id];
        return (t.cap, t.prefix, t.frozen, t.hasOverride, totalSupply(id));
    }

    /// @notice Whether token `id` was created (even if none of it is minted).
    function exists(uint256 id) public view override returns (bool) {
        return _tokens[id].cap != 0;
    }

    function uriPrefix(uint32 index) external view returns (string memory) {
        if (index == 0 || index > _prefixCount) revert UnknownUriPrefix(index);
        return _prefixes[index];
    }

    function uriPrefixCount() external view returns (uint32) {
        return _prefixCount;
    }

    /// @notice The index of a registered prefix, 0 when it was never registered.
    function uriPrefixIndex(string calldata prefix) external view returns (uint32) {
        return _prefixIndex[keccak256(bytes(prefix))];
    }

    // ---- royalties (ERC-2981) -----------------------------------------------------------------

    function setDefaultRoyalty(address receiver, uint96 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDefaultRoyalty(receiver, bps);
    }

    function setTokenRoyalty(uint256 id, address receiver, uint96 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_tokens[id].cap == 0) revert TokenDoesNotExist(id);
        _setTokenRoyalty(id, receiver, bps);
    }

    function resetTokenRoyalty(uint256 id) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _resetTokenRoyalty(id);
    }

    // ---- internals ----------------------------------------------------------------------------

    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC1155, ERC2981, AccessControl)
        returns (bool)
    {
        return super.supportsInterface(interfaceId);
    }

    /// The cap is enforced here, after every mint, so that no path can exceed it.
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values)
        internal
        override
    {
        super._update(from, to, ids, values);
        if (from == address(0)) {
            for (uint256 i; i < ids.length; ++i) {
                uint256 id = ids[i];
                uint256 cap = _tokens[id].cap;
                uint256 supply = totalSupply(id);
                if (supply > cap) revert EditionCapExceeded(id, cap, supply);
            }
        }
    }

    function _createOne(uint256 id, uint64 cap, uint32 prefix) private {
        if (_tokens[id].cap != 0) revert TokenAlreadyExists(id);
        if (cap == 0) revert InvalidEditionCap(id, cap);
        _tokens[id] = Token({cap: cap, prefix: prefix, frozen: false, hasOverride: false});
    }

    function _prefixOf(uint32 prefix) private view returns (string memory) {
        return prefix == 0 ? super.uri(0) : _prefixes[prefix];
    }

    /// The URI of a token on `prefix` (`p` is that prefix's string, or the `{id}` base URI for 0).
    function _prefixedURI(string memory p, uint32 prefix, uint256 id) private pure returns (string memory) {
        return prefix == 0 ? p : string.concat(p, _hex64(id), ".json");
    }

    function _checkPrefix(uint32 prefix) private view {
        if (prefix > _prefixCount) revert UnknownUriPrefix(prefix);
    }

    function _mutable(uint256 id) private view returns (Token storage t) {
        t = _tokens[id];
        if (t.cap == 0) revert TokenDoesNotExist(id);
        if (t.frozen) revert MetadataIsFrozen(id);
    }

    /// `id` as 64 lowercase hex digits, no 0x: the ERC-1155 `{id}` substitution. Assembly because
    /// the Solidity loop costs ~10k gas per token and this runs once per new token.
    function _hex64(uint256 id) private pure returns (string memory s) {
        assembly ("memory-safe") {
            s := mload(0x40)
            mstore(0x40, add(s, 0x60)) // length word + 64 characters
            mstore(s, 64)
            let digits := "0123456789abcdef" // left-aligned: byte(k, digits) is digit k
            let p := add(s, 0x60)
            for { let i := 0 } lt(i, 64) { i := add(i, 1) } {
                p := sub(p, 1)
                mstore8(p, byte(and(id, 15), digits))
                id := shr(4, id)
            }
        }
    }
}

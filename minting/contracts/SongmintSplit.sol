// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";

/// @title SongmintSplit: fixed revenue shares in basis points, paid out by pull.
/// @notice Receives the native currency (primary sales as a release's funds recipient, secondary
/// royalties as its ERC-2981 receiver) and lets each payee withdraw their share at any time:
/// payee p may take `totalReceived * bps[p] / 10000 - released[p]`, where totalReceived is the
/// balance plus everything withdrawn so far (the accounting of OpenZeppelin 4's PaymentSplitter).
/// Deployed as EIP-1167 clones by `SongmintFactory`; payees and shares never change.
/// ERC-20 royalties (some marketplaces pay WETH) are not split by this contract.
contract SongmintSplit is Initializable {
    uint256 public constant TOTAL_BPS = 10_000;

    address[] private _payees;
    mapping(address payee => uint256 bps) public shareOf;
    mapping(address payee => uint256 amount) public released;
    uint256 public totalReleased;

    error SplitLengthMismatch(uint256 payees, uint256 shares);
    error SplitSharesMustSumTo10000(uint256 total);
    error SplitInvalidPayee(address payee);
    error SplitZeroShare(address payee);
    error NotAPayee(address account);
    error NothingToWithdraw(address account);
    error WithdrawalFailed(address account);

    event PaymentReceived(address from, uint256 amount);
    event PaymentReleased(address indexed payee, uint256 amount);

    constructor() {
        _disableInitializers();
    }

    /// @notice Set payees and their shares (basis points, summing to 10 000), once.
    function initialize(address[] calldata payees_, uint16[] calldata bps) external initializer {
        if (payees_.length != bps.length || payees_.length == 0) revert SplitLengthMismatch(payees_.length, bps.length);
        uint256 total;
        for (uint256 i; i < payees_.length; ++i) {
            address p = payees_[i];
            if (p == address(0) || shareOf[p] != 0) revert SplitInvalidPayee(p);
            if (bps[i] == 0) revert SplitZeroShare(p);
            shareOf[p] = bps[i];
            total += bps[i];
            _payees.push(p);
        }
        if (total != TOTAL_BPS) revert SplitSharesMustSumTo10000(total);
    }

    receive() external payable {
        emit PaymentReceived(msg.sender, msg.value);
    }

    /// @notice The payees and their shares in basis points.
    function payees() external view returns (address[] memory accounts, uint256[] memory bps) {
        accounts = _payees;
        bps = new uint256[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) bps[i] = shareOf[accounts[i]];
    }

    /// @notice What `payee` may withdraw now (wei).
    function releasable(address payee) public view returns (uint256) {
        uint256 received = address(this).balance + totalReleased;
        return (received * shareOf[payee]) / TOTAL_BPS - released[payee];
    }

    /// @notice Pay `payee` everything they are owed (anyone may call; the money goes to the payee).
    function withdraw(address payee) external returns (uint256 amount) {
        if (shareOf[payee] == 0) revert NotAPayee(payee);
        amount = releasable(payee);
        if (amount == 0) revert NothingToWithdraw(payee);
        released[payee] += amount;
        totalReleased += amount;
        (bool ok,) = payable(payee).call{value: amount}("");
        if (!ok) revert WithdrawalFailed(payee);
        emit PaymentReleased(payee, amount);
    }
}
